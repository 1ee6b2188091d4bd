/**
 * How each stage of a pipeline ended, and the bookkeeping that turns settled stages into those
 * results.
 */
import type { ExitInfo } from '../../proc/index.js';
import { processStageOf, type Stage } from '../stage.js';

/** How one stage ended, in `Pipeline.results` once the pipeline is done. */
export interface StageResult {
  name: string;
  index: number;
  /** The stage's own error (after its filters), or undefined. */
  error: unknown;
  /** When it was started and when its `wait()` settled (`performance.now()` ms). */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** For commands: pid, and exit code or signal. */
  pid?: number;
  exitCode?: number | null;
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
