/**
 * The public face of a supervised child: the `Child` interface, its events, and the `ExitInfo`
 * it reports.
 */
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { GroupProcess, ExitInfo as ProcExitInfo, SpawnError } from '../proc/index.js';
import type { StopOptions } from './config.js';

/**
 * How a supervised process ended: sluice's one `ExitInfo` (`exitCode`, `signal`, `outcome`),
 * plus when the exit was seen and, for one minor version, the old name of `exitCode`.
 */
export interface ExitInfo extends ProcExitInfo {
  /** When the exit was seen (ms since the epoch). */
  readonly exitedAt: number;
  /** @deprecated Use `exitCode`; removed in 0.3.0. Not enumerable (JSON leaves it out). */
  readonly code: number | null;
}

/** The supervisor's view of an exit, with the deprecated `code` as a hidden alias. */
export function childExit(info: ProcExitInfo, proc: GroupProcess): ExitInfo {
  const out = {
    exitCode: info.exitCode,
    signal: info.signal,
    outcome: info.outcome,
    exitedAt: proc.exitedAt ?? Date.now(),
  };
  Object.defineProperty(out, 'code', { value: info.exitCode, enumerable: false });
  return out as ExitInfo;
}

/** A scheduled restart. */
export interface RestartEvent {
  /** 1 for the first restart since the last healthy run. */
  attempt: number;
  /** How long until it starts, on the policy's clock. */
  delayMs: number;
  /** How the run before it ended; undefined when the restart before it failed to spawn. */
  exit: ExitInfo | undefined;
}

/** Events of a `Child`. */
export type ChildEvents = {
  /** A process was started (each restart; the first one happens before `supervise` resolves). */
  spawn: [pid: number];
  /** A process exited; `willRestart` says whether another one is scheduled. */
  exit: [info: ExitInfo, willRestart: boolean];
  /** A restart was scheduled. */
  restart: [event: RestartEvent];
  /** The restart budget ran out; the child is done. */
  giveup: [
    event: {
      /** How many times the child was restarted in its whole life. */
      restarts: number;
      /** How the last run ended; undefined when the last attempt was a restart that could not spawn. */
      exit: ExitInfo | undefined;
    },
  ];
  /** A restart could not spawn (it counts as a failed run). */
  spawnError: [error: SpawnError];
  /** A stdout line `messages()` could not parse; it was skipped. */
  parseError: [line: string, error: Error];
};

/**
 * A supervised child. With a restart policy it outlives any one process: `pid`, `stdin` and
 * `stdout` name the current (or last) process, while `lines()`, `messages()` and `done` span all
 * of them.
 */
export interface Child extends EventEmitter<ChildEvents>, AsyncDisposable {
  /** The current process's pid (the last one's once it exited). Also its process-group id. */
  readonly pid: number;
  /** Whether a process is running now. */
  readonly running: boolean;
  /** Restarts so far. */
  readonly restarts: number;
  /**
   * The current process's stdin. Writing to a dead process fails through the write callback or
   * `'error'` listeners, never as an uncaught error.
   */
  readonly stdin: Writable;
  /**
   * The current process's stdout. Read it directly or through `lines()`/`messages()`, not both.
   * Someone must read it, or a chatty child blocks on a full pipe.
   */
  readonly stdout: Readable;
  /**
   * The stdout lines of every process of this child, in order, decoded as UTF-8, without their
   * `\n` (nor a `\r` right before it); a line past `maxLineBytes` comes in pieces. Ends when the
   * child is done for good. Memory is bounded in bytes: once `maxQueueBytes` (queued lines plus
   * the unfinished line) or 1024 lines wait for the consumer, stdout is paused and the child
   * blocks on its full pipe until the consumer catches up. Leaving the loop early drains the rest
   * unread. Call it (or `messages()`) once, before the child exits: stdout has one line reader (a
   * second call throws `ERR_SLUICE_SUPERVISOR_STDOUT_TAKEN`), and output of a process that exited
   * while nobody read its stdout is discarded. Later processes of a restarted child are always
   * read.
   */
  lines(): AsyncIterableIterator<string>;
  /**
   * Newline-delimited JSON: every non-empty stdout line parsed with `JSON.parse`. A line that is
   * not JSON is reported (`'parseError'` event and `onParseError`) and skipped, never thrown into
   * the loop. Same single-reader and ending rules as `lines()`.
   */
  messages<T = unknown>(): AsyncIterableIterator<T>;
  /**
   * Writes `JSON.stringify(message)` and a newline to stdin; resolves once the line is handed to
   * the kernel (await it for backpressure). Rejects with `ERR_SLUICE_SUPERVISOR_NOT_SERIALIZABLE`
   * when there is no JSON for it, and `ERR_SLUICE_SUPERVISOR_NOT_RUNNING` when no process runs
   * (stopped, exited, between restarts) or stdin was closed.
   */
  send(message: unknown): Promise<void>;
  /**
   * Resolves (never rejects) with the last process's `ExitInfo` once the child is done for good:
   * it exited with no restart to follow, gave up, or was stopped — nothing is left running in
   * its process group, and every stderr line has been handed to `onStderr`/`onStderrBytes` (the
   * promises they returned are not awaited). It does not wait for a `lines()` consumer.
   */
  readonly done: Promise<ExitInfo>;
  /** The value `done` resolves with, once it has; undefined before. */
  readonly exitInfo: ExitInfo | undefined;
  /** How the most recent process ended (also between restarts); undefined while the first runs. */
  readonly lastExit: ExitInfo | undefined;
  /**
   * Stops the child for good: cancels a pending restart, closes stdin, waits up to `eofTimeoutMs`
   * for an exit on EOF (outcome `'eof'`), SIGTERMs the group, waits `graceMs` (`'soft'`), SIGKILLs
   * the group (`'hard'`); resolves with `done`'s value once nothing is left in the group.
   * `graceMs: 0` SIGKILLs at once. Idempotent and safe to call concurrently (every call gets the
   * same result; a later call's `signal` still escalates). Aborting `signal` SIGKILLs at once.
   * Rejects with `InvalidOptionError` for a negative or non-finite time, and then changes
   * nothing. `await using` calls it with the defaults.
   */
  stop(options?: StopOptions): Promise<ExitInfo>;
}
