/**
 * How each stage of a pipeline ended, and the bookkeeping that turns settled stages into those
 * results.
 */
import type { ExitInfo } from '../../proc/index.js';
import { processStageOf, type Stage } from '../stage.js';

/** How one stage ended, in `Pipeline.results` once the pipeline is done. */
export interface StageResult {
  /** The stage's name (a command's program name unless it was given another). */
  name: string;
  /** The stage's 0-based position in the pipeline. */
  index: number;
  /** The stage's own error (after its filters), or undefined. */
  error: unknown;
  /** When it was started (`performance.now()` ms). */
  startedAt: number;
  /**
   * When its `wait()` settled (`performance.now()` ms); equal to `startedAt` for a stage that
   * failed to start.
   */
  endedAt: number;
  /** `endedAt - startedAt`, in milliseconds. */
  durationMs: number;
  /** A command's pid once spawned; undefined for function stages and stages that did not start. */
  pid?: number;
  /**
   * A command's exit code; null when a signal ended it; undefined for function stages and stages
   * that did not start.
   */
  exitCode?: number | null;
  /**
   * The signal that ended a command, else null; undefined for function stages and stages that did
   * not start.
   */
  signal?: NodeJS.Signals | null;
  /**
   * For commands that ran: how the process ended (exit code or signal, and whether the
   * pipeline had stopped it: `outcome` `'soft'`/`'hard'`, else `'natural'`). Undefined for
   * function stages and stages that failed to start.
   */
  exitInfo?: ExitInfo;
  /**
   * Whether this stage counts as a failure under the pipeline's `errorRule`: false for a
   * success, a `FinishEarly` and a forgiven pipe error. The pipeline fails exactly when one
   * result has `failed: true` (a start failure and a stuck stage always do).
   */
  failed: boolean;
  /** Whether the stage failed to start. */
  startFailed: boolean;
  /** Whether the pipeline stopped waiting for it (`StageStuckError`). */
  stuck: boolean;
}

/** The result of `stage` (at `index`, started at `startedAt`) that settled with `error`. */
export function stageResult(
  stage: Stage,
  index: number,
  startedAt: number,
  error: unknown,
  how: { startFailed?: boolean; stuck?: boolean } = {},
): StageResult {
  const endedAt = how.startFailed ? startedAt : performance.now();
  const proc = how.startFailed ? undefined : processStageOf(stage);
  const exit = proc?.exitInfo;
  return {
    name: stage.name,
    index,
    error,
    startedAt,
    endedAt,
    durationMs: endedAt - startedAt,
    pid: proc?.pid,
    exitCode: exit?.exitCode,
    signal: exit?.signal,
    exitInfo: exit,
    failed: error !== undefined,
    startFailed: how.startFailed === true,
    stuck: how.stuck === true,
  };
}
