/**
 * The Stage interface (go-pipe v2's redesign): a stage declares what it prefers on each side and
 * is started with both its stdin and its stdout, so the pipeline can pick the cheapest connection
 * for every edge before anything starts.
 */
import type { ExitInfo } from '../proc/index.js';
import type { InputStream, OutputStream } from './pipeline/streams.js';

/**
 * How a command stage ended: sluice's one `ExitInfo` (`exitCode`, `signal`, and `outcome`:
 * `'natural'` unless the pipeline stopped it, then `'soft'` (after SIGTERM) or `'hard'`
 * (SIGKILL after the grace)).
 */
export type { ExitInfo };

/**
 * What a stage prefers on one side:
 * - `'fd'`: a file descriptor (a command: the kernel moves the bytes, the parent never sees them);
 * - `'any'`: any stream (a function stage: an fd is wrapped in a Node stream for it);
 * - `'none'`: nothing may be connected there (a source such as `print`, or a sink); connecting
 *   something is a `PipeUsageError` raised by `start()` before any stage starts.
 */
export type StreamPreference = 'fd' | 'any' | 'none';

/** A stage's preferences for its two sides. */
export interface StagePreferences {
  readonly stdin: StreamPreference;
  readonly stdout: StreamPreference;
}

/**
 * Turns an exception thrown by a function stage (go-pipe's panic) into the stage's error: what it
 * returns (or throws) becomes the stage's error; returning `undefined` makes the stage count as
 * successful. It is not called for `FinishEarly`.
 */
export type StageErrorHandler = (error: unknown, stage: string) => unknown;

/** The events a pipeline reports through `onEvent`. Times are `performance.now()` ms. */
export type PipeEvent =
  | { type: 'stage-start'; stage: string; index: number; pid?: number; at: number }
  | {
      type: 'stage-exit';
      stage: string;
      index: number;
      durationMs: number;
      error?: unknown;
      exitCode?: number | null;
      signal?: NodeJS.Signals | null;
    }
  | { type: 'start-failed'; stage: string; index: number; error: unknown }
  | { type: 'memory-limit'; stage: string; limit: number; used: number; pid: number }
  | {
      type: 'memory-peak';
      stage: string;
      maxRssBytes: number;
      maxHwmBytes: number;
      samples: number;
      errors: number;
      limitExceeded: boolean;
    };

/**
 * What a stage is started with besides its streams. One object per pipeline; stages must not
 * keep it past `wait()`.
 */
export interface StageContext {
  /** Aborted when the pipeline is aborted (its `signal`, a start failure, `maxBufferBytes`, …). */
  readonly signal: AbortSignal;
  /** The pipeline's working directory (undefined: the process's). */
  readonly cwd: string | undefined;
  /** Variables the pipeline sets over `process.env`; `undefined` removes one. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds between SIGTERM and SIGKILL when a command's group is stopped. */
  readonly graceMs: number;
  /** @deprecated The same as `graceMs`; removed in 0.3. */
  readonly killGraceMs: number;
  /** Reports an event to the pipeline's `onEvent` (never throws). */
  readonly emit: (event: PipeEvent) => void;
  /** The pipeline's handler for exceptions thrown by function stages, if any. */
  readonly onStageError: StageErrorHandler | undefined;
}

/**
 * A pipeline stage.
 *
 * Contract (go-pipe v2):
 * - `start` takes ownership of both streams: it closes them when it is done with them, and also
 *   when it throws. The caller never closes them after calling `start`.
 * - `start` throws (a `StageStartError`, usually) when the stage cannot start; `wait` must then
 *   not be called.
 * - `wait` resolves when the stage is finished and has released everything it holds (processes
 *   reaped, fds closed, timers cleared); it rejects with the stage's error.
 * - A stage is started at most once.
 */
export interface Stage {
  readonly name: string;
  readonly preferences: StagePreferences;
  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void;
  wait(): Promise<void>;
}

/**
 * A stage backed by one process (a command): what the memory watchers and `sluice run` need.
 * Wrappers (`filterError`, `memoryLimit`, …) forward it from the stage they wrap.
 */
export interface ProcessStage extends Stage {
  /** The child's pid once started (it leads its own process group), else undefined. */
  readonly pid: number | undefined;
  /** How it ended, once it has. */
  readonly exitInfo: ExitInfo | undefined;
  /** Stops the process group (SIGTERM, SIGKILL after the grace); the stage's error becomes `reason`. */
  kill(reason: unknown): void;
}

/** A stage that wraps another (`filterError`, `memoryLimit`, …). */
export interface WrapperStage extends Stage {
  readonly inner: Stage;
}

/**
 * The process-backed stage at the bottom of `stage`'s wrappers (`filterError`, `memoryLimit`, …),
 * or undefined when the innermost stage is not a command.
 */
export function processStageOf(stage: Stage): ProcessStage | undefined {
  let s: Stage = stage;
  for (let depth = 0; depth < 64; depth++) {
    const inner = (s as Partial<WrapperStage>).inner;
    if (!inner) break;
    s = inner;
  }
  return isProcessStage(s) ? s : undefined;
}

function isProcessStage(s: Stage): s is ProcessStage {
  return typeof (s as Partial<ProcessStage>).kill === 'function' && 'pid' in s;
}

/** Whether `p` is a valid preference (guards hand-written stages). */
export function validPreference(p: unknown): p is StreamPreference {
  return p === 'fd' || p === 'any' || p === 'none';
}
