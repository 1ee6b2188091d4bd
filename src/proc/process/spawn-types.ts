/**
 * The types of the process core (`spawnGroup`): its options, the stop options, and the
 * `GroupProcess` it resolves with. Apart from the code, so the pieces of the core import them
 * without importing each other.
 */
import type { Readable, Writable } from 'node:stream';
import type { ExitInfo } from './exit-info.js';
import type { SignalName } from './signal.js';

/**
 * How one of the child's fds 0, 1, 2 is set up.
 * - `'pipe'`: a real kernel pipe to this process, exposed as `stdin` / `stdout` / `stderr`.
 * - `'ignore'`: `/dev/null`.
 * - `'inherit'`: this process's own fd.
 * - a number: that fd of this process (for example one end of `createPipe()`); it stays the
 *   caller's, who closes its copy once `spawnGroup` has settled.
 */
export type StdioSlot = 'pipe' | 'ignore' | 'inherit' | number;

/** Where and to whom a pipe is read when `SpawnGroupOptions.onRead` names it. */
export interface PipeReadInto {
  /**
   * The buffer each read fills from its start (at least 1 byte), or a function that returns the
   * buffer for the next read: it is called once before the first read and again after every
   * callback, so each read may land in fresh memory the caller keeps without copying.
   */
  buffer: Uint8Array | (() => Uint8Array);
  /** Called with each read's byte count and the buffer it filled; `false` pauses the stream. */
  callback(bytes: number, buffer: Uint8Array): boolean | undefined;
}

/** Options of {@link spawnGroup}. */
export interface SpawnGroupOptions {
  /** The program and its arguments; `argv[0]` is looked up on `PATH` unless it holds a `/`. */
  argv: readonly string[];
  /**
   * Working directory; checked before spawning so a bad one is `ERR_SLUICE_SPAWN_BAD_CWD`.
   * @default this process's cwd
   */
  cwd?: string;
  /**
   * Environment entries laid over this process's environment (a value of `undefined` removes
   * the key). With `inheritEnv: false` they are the whole environment.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Start from this process's environment.
   * @default true
   */
  inheritEnv?: boolean;
  /**
   * fds 0, 1 and 2. The stderr slot may also be `'stdout'` (with stdout `'pipe'`): stderr then
   * goes to the same kernel pipe as stdout, interleaved in write order, and `stderr` is null.
   * @default ['pipe', 'pipe', 'pipe']
   */
  stdio?: readonly [StdioSlot, StdioSlot, StdioSlot | 'stdout'];
  /**
   * Read a pipe straight into a buffer of the caller's instead of through the stream's 'data'
   * events (Node's `onread` option of `net.Socket`): no new buffer is allocated per read, so a
   * chatty child makes no garbage. `callback(bytes, buffer)` gets each read's bytes in
   * `buffer[0, bytes)`; a buffer that is reused is valid only until it returns (copy what you
   * keep); returning `false` pauses the stream (`resume()` reads on). The stream then emits no
   * 'data', but still 'end' and 'close'; `pause()`/`resume()` hold and release the pipe as
   * usual, and a paused pipe is never cut after the exit (its unread bytes wait in the kernel).
   * One buffer may serve many pipes: each callback runs to completion before the next read.
   * @default undefined (the streams emit 'data' as usual)
   * @internal sluice's own sessions use it; not part of the deprecated public `SpawnGroupOptions`.
   */
  onRead?: {
    /** For the stdout pipe (a merged stderr included). */
    stdout?: PipeReadInto;
    /** For the stderr pipe. */
    stderr?: PipeReadInto;
  };
  /**
   * After the child exits, its stdout/stderr pipes get windows of this length to reach EOF. A
   * pipe that received nothing during a whole window and is not held back by a slow reader has
   * a foreign writer (a grandchild that escaped the group holds the write end) and is destroyed;
   * so is one still receiving after 20 windows. A pipe whose reader is behind is never cut.
   * @default 100
   */
  drainMs?: number;
  /**
   * SIGKILL the group if this Node process exits while the child still runs (best effort: runs
   * on `process.on('exit')`, so not when this process is killed by a signal).
   * @default true
   */
  killOnParentExit?: boolean;
}

/** Options of `GroupProcess.terminate`. */
export interface TerminateProcessOptions {
  /**
   * First close stdin (when it is a pipe) and wait this long for the child to exit on EOF before
   * the soft signal; an exit in that window reads outcome `'eof'`. 0 skips the EOF step.
   * @default 0
   */
  eofTimeoutMs?: number;
  /** @deprecated Use `eofTimeoutMs`; removed in 0.3.0. */
  eofMs?: number;
  /**
   * How long after the soft signal before SIGKILL. 0 sends SIGKILL at once, with no soft signal
   * (an explicit "kill now"; leave it undefined for the default).
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /**
   * The soft signal.
   * @default 'SIGTERM'
   */
  softSignal?: SignalName;
  /** Aborting it skips whatever waiting is left and SIGKILLs the group at once. */
  signal?: AbortSignal;
}

/**
 * A child running in its own process group (its pgid is its pid). It is always reaped: `exited`
 * resolves once the kernel reports its exit, whoever ends it. After the exit, its stdout/stderr
 * pipes are given `drainMs` to reach EOF and are destroyed if a foreign holder (a grandchild)
 * keeps them open; `closed` resolves when that has settled. A pipe whose reader is merely slow
 * is never cut: its data stays readable and it closes when read to EOF.
 */
export interface GroupProcess extends AsyncDisposable {
  /** The child's pid, which is also its process-group id. */
  readonly pid: number;
  /** The argv it was started with. */
  readonly argv: readonly string[];
  /** When it was spawned (ms since the epoch). */
  readonly startedAt: number;
  /** Its stdin when that slot is `'pipe'`, else null. Errors (EPIPE) never crash the process. */
  readonly stdin: Writable | null;
  /** Its stdout when that slot is `'pipe'`, else null. */
  readonly stdout: Readable | null;
  /** Its stderr when that slot is `'pipe'`, else null. */
  readonly stderr: Readable | null;
  /** Resolves (never rejects) with how it ended, once it has been reaped. */
  readonly exited: Promise<ExitInfo>;
  /** The same value once it has exited; undefined before. */
  readonly exitInfo: ExitInfo | undefined;
  /** When the exit was seen (ms since the epoch); undefined before. */
  readonly exitedAt: number | undefined;
  /** Resolves after the exit once every pipe from the child reached EOF or was destroyed. */
  readonly closed: Promise<void>;
  /** Whether a stop (`terminate`) has begun. */
  readonly stopping: boolean;
  /**
   * Sends `signal` to the whole group. Returns whether anyone received it (false once the group
   * is gone: its id is never signalled again, since it may be reused). Never throws for a
   * vanished group.
   */
  kill(signal?: SignalName): boolean;
  /** Ends stdin (flushing what was written) so the child reads EOF. Idempotent. */
  closeStdin(): void;
  /**
   * Stops the child and every process left in its group: the optional stdin EOF step, the soft
   * signal to the group, `graceMs`, then SIGKILL to the group. Resolves with the child's
   * `ExitInfo` (outcome `'eof'`, `'soft'` or `'hard'`; `'natural'` when it had already exited)
   * once it is reaped and no member of its group runs. Idempotent and safe to call concurrently:
   * later calls join the first one's sequence (their `signal` can still escalate it). Called
   * after a natural exit, it still sweeps grandchildren left in the group. Throws
   * `InvalidOptionError` (synchronously, changing nothing) for a negative or non-finite time or
   * an unknown soft signal. `[Symbol.asyncDispose]` is `terminate()` with the defaults, then
   * waits for `closed`.
   */
  terminate(options?: TerminateProcessOptions): Promise<ExitInfo>;
}
