/**
 * The one process core every part of sluice starts children through: spawn in a new process
 * group, typed spawn errors that leave nothing behind, reaping, a stop sequence (stdin EOF →
 * soft signal → grace → SIGKILL, all to the whole group) that is idempotent and safe to call
 * concurrently, and stdio handles that are closed after exit even when a grandchild keeps a pipe
 * open.
 *
 * The child's pipes are real kernel pipes made by `createPipe` (never Node's socketpairs): a
 * reader going away gives the writer SIGPIPE/EPIPE as in a shell, and a spawn that fails (EMFILE
 * included) closes every fd it made. Node's own `stdio: 'pipe'` leaks its pipe handles and leaves
 * `child.stdio` undefined when spawn fails with EMFILE; sluice never asks Node for them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { InvalidOptionError, SpawnError } from './errors.js';
import type { ExitInfo } from './exit-info.js';
import { Group } from './group-process.js';
import { createPipe, type PipePair } from './pipe.js';
import type { SignalName } from './signal.js';
import { buildEnv, classify, validate } from './spawn-options.js';

/**
 * How one of the child's fds 0, 1, 2 is set up.
 * - `'pipe'`: a real kernel pipe to this process, exposed as `stdin` / `stdout` / `stderr`.
 * - `'ignore'`: `/dev/null`.
 * - `'inherit'`: this process's own fd.
 * - a number: that fd of this process (for example one end of `createPipe()`); it stays the
 *   caller's, who closes its copy once `spawnGroup` has settled.
 */
export type StdioSlot = 'pipe' | 'ignore' | 'inherit' | number;

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

/** The fds of one spawn: what the child gets, and what this process keeps. */
interface Plumbing {
  stdio: (number | 'ignore' | 'inherit')[];
  /** Every pipe made for this spawn (closed whole on failure). */
  made: PipePair[];
  /** The ends this process keeps: stdin's write end, stdout's and stderr's read ends. */
  keep: [number | undefined, number | undefined, number | undefined];
  /** The ends only the child needs (closed here once it runs). */
  childEnds: number[];
}

function plumb(slots: NonNullable<SpawnGroupOptions['stdio']>): Plumbing {
  const p: Plumbing = {
    stdio: [],
    made: [],
    keep: [undefined, undefined, undefined],
    childEnds: [],
  };
  try {
    for (let i = 0; i < 3; i++) {
      const slot = slots[i]!;
      if (slot === 'stdout') {
        p.stdio.push(p.stdio[1] as number);
        continue;
      }
      if (slot !== 'pipe') {
        p.stdio.push(slot);
        continue;
      }
      const pair = createPipe();
      p.made.push(pair);
      const [mine, theirs] = i === 0 ? [pair.writeFd, pair.readFd] : [pair.readFd, pair.writeFd];
      p.keep[i] = mine;
      p.childEnds.push(theirs);
      p.stdio.push(theirs);
    }
  } catch (e) {
    for (const pair of p.made) pair.close();
    throw e;
  }
  return p;
}

function wrap(fd: number | undefined, side: 'read' | 'write'): Socket | null {
  if (fd === undefined) return null;
  return new Socket({ fd, readable: side === 'read', writable: side === 'write' });
}

/**
 * Starts `argv` in a new session and process group (`setsid`; the group id is the child's pid)
 * and resolves once it runs. Rejects with `InvalidOptionError` for malformed options (empty
 * argv, a NUL byte, a bad stdio slot, a bad env key) and `SpawnError` for a missing binary
 * (`ERR_SLUICE_SPAWN_NOT_FOUND`), one that cannot be executed (`ERR_SLUICE_SPAWN_PERMISSION`),
 * a bad cwd (`ERR_SLUICE_SPAWN_BAD_CWD`), no fds or processes left
 * (`ERR_SLUICE_SPAWN_RESOURCES`: EMFILE, ENFILE, EAGAIN, ENOMEM) or anything else
 * (`ERR_SLUICE_SPAWN_FAILED`); then no process, fd or handle of ours is left behind.
 *
 * The caller owns the result: it must let the child end (or `terminate` it) and read or ignore
 * what it writes — a pipe nobody reads fills up and blocks the child. Pipes nobody listens to
 * are drained after the exit.
 *
 * @example
 * ```ts
 * const p = await spawnGroup({ argv: ['sh', '-c', 'echo hi; sleep 60'] });
 * p.stdout!.pipe(process.stdout);
 * const info = await p.terminate({ graceMs: 1000 }); // { exitCode: null, signal: 'SIGTERM', outcome: 'soft' }
 * ```
 */
export function spawnGroup(options: SpawnGroupOptions): Promise<GroupProcess> {
  let env: NodeJS.ProcessEnv | undefined;
  try {
    validate(options);
    env = buildEnv(options);
  } catch (e) {
    return Promise.reject(e);
  }
  let pipes: Plumbing;
  try {
    pipes = plumb(options.stdio ?? ['pipe', 'pipe', 'pipe']);
  } catch (e) {
    return Promise.reject(classify(e, options));
  }
  const closeAll = () => {
    for (const pair of pipes.made) pair.close();
  };
  let child: ChildProcess;
  try {
    child = spawn(options.argv[0]!, options.argv.slice(1), {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(env === undefined ? {} : { env }),
      stdio: pipes.stdio,
      detached: true,
    });
  } catch (e) {
    closeAll();
    return Promise.reject(classify(e, options));
  }
  return new Promise<GroupProcess>((resolve, reject) => {
    const onError = (e: unknown) => {
      child.off('spawn', onSpawn);
      closeAll(); // every fd of this spawn is ours: Node was given numbers, never 'pipe'
      reject(classify(e, options) as SpawnError | InvalidOptionError);
    };
    const onSpawn = () => {
      child.off('error', onError);
      // The child has its copies now; the parent's must go, or EOF and SIGPIPE never come.
      for (const pair of pipes.made) {
        if (pipes.childEnds.includes(pair.readFd)) pair.closeRead();
        if (pipes.childEnds.includes(pair.writeFd)) pair.closeWrite();
      }
      const [i, o, e] = pipes.keep;
      resolve(new Group(child, options, wrap(i, 'write'), wrap(o, 'read'), wrap(e, 'read')));
    };
    child.once('error', onError);
    child.once('spawn', onSpawn);
  });
}
