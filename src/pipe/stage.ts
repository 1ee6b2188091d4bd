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
  /** What the stage accepts as its input. */
  readonly stdin: StreamPreference;
  /** What the stage accepts as its output. */
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
  | {
      /** A stage started (its process was spawned, or its function was called). */
      type: 'stage-start';
      /** The stage's name, as in its result. */
      stage: string;
      /** The stage's 0-based position in the pipeline. */
      index: number;
      /** The process id for a command stage; undefined for a function stage. */
      pid?: number;
      /** When it started, in `performance.now()` milliseconds. */
      at: number;
    }
  | {
      /** A stage finished and released what it held; one per started stage. */
      type: 'stage-exit';
      /** The stage's name. */
      stage: string;
      /** The stage's 0-based position in the pipeline. */
      index: number;
      /** Milliseconds from its start to its end. */
      durationMs: number;
      /** Why it failed; undefined when it succeeded. */
      error?: unknown;
      /** A command's exit code; null when a signal ended it, undefined for a function stage. */
      exitCode?: number | null;
      /** The signal that ended a command, else null; undefined for a function stage. */
      signal?: NodeJS.Signals | null;
    }
  | {
      /** A stage could not start; the pipeline is aborted and no `stage-exit` follows for it. */
      type: 'start-failed';
      /** The stage's name. */
      stage: string;
      /** The stage's 0-based position in the pipeline. */
      index: number;
      /** Why it could not start (usually a `StageStartError`). */
      error: unknown;
    }
  | {
      /** A `memoryLimit` stage saw its process tree over the limit and is stopping it; at most once per stage. */
      type: 'memory-limit';
      /** The stage's name. */
      stage: string;
      /** The limit, in bytes. */
      limit: number;
      /** The process tree's summed anonymous resident memory in the sample that passed it, in bytes. */
      used: number;
      /** The pid of the process group leader being stopped. */
      pid: number;
    }
  | {
      /** A memory watcher's report when its stage ended (`memoryObserver`, or `memoryLimit` with `observe`). */
      type: 'memory-peak';
      /** The stage's name. */
      stage: string;
      /** Highest summed RssAnon of the process tree seen in a sample, in bytes. */
      maxRssBytes: number;
      /** Highest summed VmHWM (the kernel's own peak resident set) of the tree seen, in bytes. */
      maxHwmBytes: number;
      /** How many samples were taken. */
      samples: number;
      /** How many samples failed (a process vanished mid-read, /proc unreadable). */
      errors: number;
      /** Whether `memoryLimit` stopped the stage. */
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
  /** Names the stage in errors, events and results (a command's program name by default). */
  readonly name: string;
  /** What the stage accepts on each side; the pipeline connects neighbours to suit both. */
  readonly preferences: StagePreferences;
  /**
   * Starts the stage on its two ends, taking ownership of both; called at most once. Throws
   * (usually a `StageStartError`) when it cannot start, having closed both ends.
   */
  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void;
  /**
   * Settles once the stage has finished and released everything it holds: resolves on
   * success, rejects with the stage's error. Only called after `start` returned.
   */
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
  /** The stage wrapped; the wrapper starts it and forwards its streams. */
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
