/**
 * The process core every long-running child in sluice goes through (the supervisor's `Child`,
 * the sessions daemon's pipe sessions): spawn in a new process group, typed spawn errors that
 * leave nothing behind, reaping, a stop sequence (stdin EOF → soft signal → grace → SIGKILL, all
 * to the whole group) that is idempotent and safe to call concurrently, and stdio handles that
 * are closed after exit even when a grandchild keeps the pipe open.
 *
 * Stable interface: `spawnGroup`, `GroupProcess`, `ExitInfo`, `SpawnGroupOptions`,
 * `StdioSlot`, `TerminateProcessOptions`, `SpawnError`. Other parts build on exactly these.
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { createPipe, type PipePair, type SignalName } from '../proc/index.js';
import type { SpawnError } from './errors.js';
import { Group } from './group.js';
import { buildEnv, classify, validate } from './spawn-options.js';

/**
 * How one of the child's fds 0, 1, 2 is set up.
 * - `'pipe'`: a pipe to this process, exposed as `stdin` / `stdout` / `stderr`.
 * - `'ignore'`: `/dev/null`.
 * - `'inherit'`: this process's own fd.
 * - a number: that fd of this process (for example one end of `createPipe()`); it stays the
 *   caller's, who closes its copy once `spawnGroup` has settled.
 * - `'stdout'` (stderr slot only, with stdout `'pipe'`): stderr goes to the same real kernel pipe
 *   as stdout, interleaved in write order, and `stderr` is null.
 */
export type StdioSlot = 'pipe' | 'ignore' | 'inherit' | number;

/** Options of `spawnGroup`. */
export interface SpawnGroupOptions {
  /** The program and its arguments; `argv[0]` is looked up on `PATH` unless it holds a `/`. */
  argv: readonly string[];
  /** Working directory; checked before spawning so a bad one is `ERR_SPAWN_BAD_CWD`. */
  cwd?: string;
  /**
   * Environment entries laid over this process's environment (later keys win; a value of
   * `undefined` removes the key). With `inheritEnv: false` they are the whole environment.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Start from this process's environment. Default true. */
  inheritEnv?: boolean;
  /** fds 0, 1 and 2. Default `['pipe', 'pipe', 'pipe']`. */
  stdio?: readonly [StdioSlot, StdioSlot, StdioSlot | 'stdout'];
  /**
   * After the child exits, its stdout/stderr pipes get windows of this length to reach EOF. A
   * pipe that received nothing during a whole window and is not held back by a slow reader has
   * a foreign writer (a grandchild that escaped the group holds the write end) and is destroyed;
   * so is one still receiving after 20 windows. A pipe whose reader is behind is never cut.
   * Default 100 ms.
   */
  drainMs?: number;
  /**
   * SIGKILL the group if this Node process exits while the child still runs (best effort: runs
   * on `process.on('exit')`, so not when this process is killed by a signal). Default true.
   */
  killOnParentExit?: boolean;
}

/** How a child ended. */
export interface ExitInfo {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /**
   * - `'natural'`: it ended on its own, before any stop began (even if that was a crash or an
   *   outside signal);
   * - `'soft'`: it ended after a stop began and before SIGKILL was needed (stdin EOF or the
   *   soft signal);
   * - `'hard'`: SIGKILL ended it.
   */
  outcome: 'natural' | 'soft' | 'hard';
  /** When the exit was seen (ms since the epoch). */
  exitedAt: number;
}

/** Options of `GroupProcess.terminate`. */
export interface TerminateProcessOptions {
  /**
   * First close stdin (when it is a pipe) and wait this long for the child to exit on EOF before
   * the soft signal. Default 0 (no EOF step).
   */
  eofMs?: number;
  /** How long after the soft signal before SIGKILL. Default 5000 ms; 0 means SIGKILL at once. */
  graceMs?: number;
  /** The soft signal. Default SIGTERM. */
  softSignal?: SignalName;
  /** Aborting it skips whatever waiting is left and SIGKILLs the group at once. */
  signal?: AbortSignal;
}

/**
 * A child running in its own process group (its pgid is its pid). It is always reaped: `exited`
 * resolves once the kernel reports its exit, whoever ends it. After the exit, its stdout/stderr
 * pipes are given `drainMs` to reach EOF and are destroyed if a foreign holder (a grandchild)
 * keeps them open; `closed` resolves when that has settled. A pipe whose reader is merely slow
 * (its buffer is full) is never cut: its data stays readable and it closes when read to EOF.
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
  /** Resolves after the exit once every pipe from the child reached EOF or was destroyed. */
  readonly closed: Promise<void>;
  /** Whether a stop (`terminate`) has begun. */
  readonly stopping: boolean;
  /**
   * Sends `signal` to the whole group. Returns whether anyone received it (false once the group
   * is gone). Never throws for a vanished group.
   */
  kill(signal?: SignalName): boolean;
  /** Ends stdin (flushing what was written) so the child reads EOF. Idempotent. */
  closeStdin(): void;
  /**
   * Stops the child and every process left in its group: optional stdin EOF step, the soft
   * signal to the group, `graceMs`, then SIGKILL to the group. Resolves with the child's
   * `ExitInfo` once it is reaped and no member of its group runs. Idempotent and safe to call
   * concurrently: later calls join the first one's sequence (their `signal` can still escalate
   * it). Called after a natural exit, it still sweeps grandchildren left in the group and
   * resolves with the natural `ExitInfo`. Throws `RangeError` (synchronously, changing nothing)
   * for a negative or non-finite time or an unknown soft signal.
   */
  terminate(options?: TerminateProcessOptions): Promise<ExitInfo>;
}

/**
 * Starts `argv` in a new session and process group (`setsid`; the group id is the child's pid)
 * and resolves once it runs. Rejects with `SpawnError` for an empty argv
 * (`ERR_SPAWN_EMPTY_ARGV`), a missing binary (`ERR_SPAWN_NOT_FOUND`), one that cannot be
 * executed (`ERR_SPAWN_PERMISSION`), a bad cwd (`ERR_SPAWN_BAD_CWD`) or malformed options
 * (`ERR_SPAWN_INVALID_ARGUMENT`); then no process, fd or handle of ours is left behind.
 *
 * The caller owns the result: it must let the child end (or `terminate` it) and read or ignore
 * what it writes — a pipe nobody reads fills up and blocks the child. Pipes nobody listens to
 * are drained after the exit, as Node does.
 */
export function spawnGroup(options: SpawnGroupOptions): Promise<GroupProcess> {
  let env: NodeJS.ProcessEnv | undefined;
  try {
    validate(options);
    env = buildEnv(options);
  } catch (e) {
    return Promise.reject(e);
  }
  const slots = options.stdio ?? (['pipe', 'pipe', 'pipe'] as const);
  let merged: PipePair | undefined;
  let stdio: StdioOptions;
  if (slots[2] === 'stdout') {
    try {
      merged = createPipe();
    } catch (e) {
      return Promise.reject(classify(e, options));
    }
    stdio = [slots[0], merged.writeFd, merged.writeFd];
  } else {
    stdio = [slots[0], slots[1], slots[2]];
  }
  let child: ChildProcess;
  try {
    child = spawn(options.argv[0]!, options.argv.slice(1), {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(env === undefined ? {} : { env }),
      stdio,
      detached: true,
    });
  } catch (e) {
    merged?.close();
    return Promise.reject(classify(e, options));
  }
  return new Promise<GroupProcess>((resolve, reject) => {
    const onError = (e: unknown) => {
      child.off('spawn', onSpawn);
      merged?.close();
      // Node already closed the process handle; close the pipes it made for a child that never ran.
      for (const s of child.stdio) s?.destroy();
      let err: SpawnError;
      try {
        err = classify(e, options);
      } catch (typed) {
        err = typed as SpawnError;
      }
      reject(err);
    };
    const onSpawn = () => {
      child.off('error', onError);
      let stdout = child.stdout;
      if (merged) {
        merged.closeWrite();
        stdout = new Socket({ fd: merged.readFd, readable: true, writable: false });
      }
      resolve(new Group(child, options, stdout));
    };
    child.once('error', onError);
    child.once('spawn', onSpawn);
  });
}
