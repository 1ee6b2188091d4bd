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
import { accessSync, constants, statSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  createPipe,
  groupAlive,
  type PipePair,
  type SignalName,
  trySignalGroup,
  waitGroupGone,
} from '../proc/index.js';
import { SpawnError, type SpawnErrorCode } from './errors.js';

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
   * After the child exits, how long its stdout/stderr pipes may stay open waiting for EOF (a
   * grandchild may still hold the write end) before they are destroyed. Default 100 ms.
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
   * resolves with the natural `ExitInfo`. Throws `RangeError` for a negative or non-finite time.
   */
  terminate(options?: TerminateProcessOptions): Promise<ExitInfo>;
}

const DEFAULT_GRACE_MS = 5000;
const DEFAULT_DRAIN_MS = 100;
/** After SIGKILL a group ends in microseconds; past this a stuck member (D state) is left. */
const AFTER_KILL_MS = 5000;

const noop = () => {};

function fail(
  code: SpawnErrorCode,
  message: string,
  o: SpawnGroupOptions,
  errno?: string,
  cause?: unknown,
): SpawnError {
  const argv = Array.isArray(o?.argv) ? o.argv : [];
  const cwd = typeof o?.cwd === 'string' ? o.cwd : undefined;
  return new SpawnError(code, message, {
    argv,
    ...(cwd === undefined ? {} : { cwd }),
    ...(errno === undefined ? {} : { errno }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function checkSlot(slot: unknown, i: number, o: SpawnGroupOptions): void {
  if (slot === 'pipe' || slot === 'ignore' || slot === 'inherit') return;
  if (i === 2 && slot === 'stdout') {
    if (o.stdio?.[1] !== 'pipe') {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', "stderr 'stdout' needs stdout 'pipe'", o);
    }
    return;
  }
  if (typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0) return;
  throw fail('ERR_SPAWN_INVALID_ARGUMENT', `stdio[${i}] is not a valid slot: ${String(slot)}`, o);
}

function validate(o: SpawnGroupOptions): void {
  if (o === null || typeof o !== 'object') {
    throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'spawn options must be an object', o);
  }
  const { argv } = o;
  if (!Array.isArray(argv)) {
    throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'argv must be an array of strings', o);
  }
  if (argv.length === 0 || argv[0] === '') {
    throw fail('ERR_SPAWN_EMPTY_ARGV', 'argv is empty: nothing to run', o);
  }
  for (const [i, a] of argv.entries()) {
    if (typeof a !== 'string') {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', `argv[${i}] is not a string`, o);
    }
    if (a.includes('\0')) {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', `argv[${i}] holds a NUL byte`, o);
    }
  }
  if (o.stdio !== undefined) {
    if (!Array.isArray(o.stdio) || o.stdio.length !== 3) {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'stdio must list exactly three slots', o);
    }
    for (const [i, s] of o.stdio.entries()) checkSlot(s, i, o);
  }
  if (o.drainMs !== undefined && !(Number.isFinite(o.drainMs) && o.drainMs >= 0)) {
    throw fail('ERR_SPAWN_INVALID_ARGUMENT', `drainMs must be >= 0, got ${o.drainMs}`, o);
  }
  if (o.cwd !== undefined) {
    if (typeof o.cwd !== 'string' || o.cwd === '' || o.cwd.includes('\0')) {
      throw fail('ERR_SPAWN_BAD_CWD', `cwd is not a usable path: ${JSON.stringify(o.cwd)}`, o);
    }
    checkCwd(o);
  }
}

function checkCwd(o: SpawnGroupOptions): void {
  const cwd = o.cwd!;
  try {
    if (!statSync(cwd).isDirectory()) {
      throw fail('ERR_SPAWN_BAD_CWD', `cwd is not a directory: ${cwd}`, o, 'ENOTDIR');
    }
    accessSync(cwd, constants.X_OK);
  } catch (e) {
    if (e instanceof SpawnError) throw e;
    const errno = (e as NodeJS.ErrnoException).code;
    throw fail('ERR_SPAWN_BAD_CWD', `cannot use cwd ${cwd}: ${errno ?? String(e)}`, o, errno, e);
  }
}

function buildEnv(o: SpawnGroupOptions): NodeJS.ProcessEnv | undefined {
  if (o.env === undefined && o.inheritEnv !== false) return undefined;
  const env: NodeJS.ProcessEnv = o.inheritEnv === false ? {} : { ...process.env };
  if (o.env !== undefined) {
    if (o.env === null || typeof o.env !== 'object') {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'env must be an object of strings', o);
    }
    for (const [k, v] of Object.entries(o.env)) {
      if (k === '' || k.includes('=') || k.includes('\0')) {
        throw fail('ERR_SPAWN_INVALID_ARGUMENT', `env key ${JSON.stringify(k)} is not valid`, o);
      }
      if (v === undefined) delete env[k];
      else if (typeof v !== 'string' || v.includes('\0')) {
        throw fail('ERR_SPAWN_INVALID_ARGUMENT', `env ${k} must be a string without NUL`, o);
      } else env[k] = v;
    }
  }
  return env;
}

/** Maps a failed spawn to a typed error; a vanished cwd is told apart from a missing binary. */
function classify(e: unknown, o: SpawnGroupOptions): SpawnError {
  const errno = (e as NodeJS.ErrnoException)?.code;
  const bin = o.argv[0];
  if (errno === 'ENOENT' || errno === 'ENOTDIR') {
    if (o.cwd !== undefined) checkCwd(o); // throws ERR_SPAWN_BAD_CWD when that was the cause
    return fail('ERR_SPAWN_NOT_FOUND', `command not found: ${bin}`, o, errno, e);
  }
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EISDIR') {
    return fail('ERR_SPAWN_PERMISSION', `permission denied: ${bin}`, o, errno, e);
  }
  if (errno === 'EMFILE' || errno === 'ENFILE' || errno === 'EAGAIN' || errno === 'ENOMEM') {
    return fail('ERR_SPAWN_RESOURCES', `cannot spawn ${bin}: ${errno}`, o, errno, e);
  }
  if (errno === 'ERR_INVALID_ARG_TYPE' || errno === 'ERR_INVALID_ARG_VALUE') {
    return fail('ERR_SPAWN_INVALID_ARGUMENT', `cannot spawn ${bin}: ${String(e)}`, o, errno, e);
  }
  return fail('ERR_SPAWN_FAILED', `cannot spawn ${bin}: ${errno ?? String(e)}`, o, errno, e);
}

/** Live groups, SIGKILLed if this process exits first (see `killOnParentExit`). */
const live = new Set<number>();
let exitHooked = false;
function track(pid: number): void {
  live.add(pid);
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const pgid of live) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
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

class Group implements GroupProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly startedAt = Date.now();
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exited: Promise<ExitInfo>;
  readonly closed: Promise<void>;
  #drainMs: number;
  #exitInfo: ExitInfo | undefined;
  #stopBegan = false;
  #killSent = false;
  #groupGone = false;
  #hard = new AbortController();
  #terminating: Promise<ExitInfo> | undefined;
  #done = false;
  #unlisten: (() => void)[] = [];
  #exitWaiters = new Set<() => void>();
  #resolveClosed!: () => void;

  constructor(child: ChildProcess, o: SpawnGroupOptions, stdout: Readable | null) {
    this.pid = child.pid!;
    this.argv = [...o.argv];
    this.#drainMs = o.drainMs ?? DEFAULT_DRAIN_MS;
    this.stdin = child.stdin;
    this.stdout = stdout;
    this.stderr = child.stderr;
    // A pipe error (EPIPE on stdin after the child exited, a reset on a read side) must never
    // become an uncaught 'error' event; users still see it through their own listeners.
    this.stdin?.on('error', noop);
    this.stdout?.on('error', noop);
    this.stderr?.on('error', noop);
    child.on('error', noop); // a failed kill() is reported as an 'error' event by Node
    if (o.killOnParentExit !== false) track(this.pid);
    this.closed = new Promise((r) => {
      this.#resolveClosed = r;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this.pid);
        const outcome = !this.#stopBegan
          ? 'natural'
          : this.#killSent && signal === 'SIGKILL'
            ? 'hard'
            : 'soft';
        this.#exitInfo = { code, signal, outcome, exitedAt: Date.now() };
        for (const w of this.#exitWaiters) w();
        this.#exitWaiters.clear();
        this.#settleStdio();
        resolve(this.#exitInfo);
      });
    });
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  get stopping(): boolean {
    return this.#stopBegan || this.#terminating !== undefined;
  }

  kill(signal: SignalName = 'SIGTERM'): boolean {
    if (this.#groupGone) return false;
    return trySignalGroup(this.pid, signal);
  }

  closeStdin(): void {
    const s = this.stdin;
    if (s && !s.destroyed && !s.writableEnded) s.end();
  }

  terminate(options: TerminateProcessOptions = {}): Promise<ExitInfo> {
    for (const key of ['eofMs', 'graceMs'] as const) {
      const v = options[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new RangeError(`${key} must be a finite number >= 0, got ${v}`);
      }
    }
    const abort = options.signal;
    if (abort) {
      if (abort.aborted) this.#hard.abort();
      else if (!this.#done) {
        const on = () => this.#hard.abort();
        abort.addEventListener('abort', on, { once: true });
        this.#unlisten.push(() => abort.removeEventListener('abort', on));
      }
    }
    this.#terminating ??= this.#run(options).finally(() => {
      this.#done = true;
      for (const f of this.#unlisten) f();
      this.#unlisten = [];
    });
    return this.#terminating;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
    await this.closed;
  }

  async #run(o: TerminateProcessOptions): Promise<ExitInfo> {
    const graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
    const soft = o.softSignal ?? 'SIGTERM';
    const hard = this.#hard.signal;
    let softAt: number | undefined;
    if (!this.#exitInfo) {
      this.#stopBegan = true;
      if ((o.eofMs ?? 0) > 0 && this.stdin && !hard.aborted) {
        this.closeStdin();
        await this.#waitExit(o.eofMs!);
      }
      if (!this.#exitInfo && !hard.aborted && graceMs > 0) {
        softAt = performance.now();
        this.kill(soft);
        await this.#waitExit(graceMs);
      }
      if (!this.#exitInfo) {
        this.#killSent = true;
        this.kill('SIGKILL');
        await this.exited;
      }
    }
    // The leader is reaped; end whatever it left running in its group.
    if (this.#groupPresent()) {
      if (!hard.aborted && !this.#killSent && graceMs > 0) {
        if (softAt === undefined) {
          softAt = performance.now();
          this.kill(soft);
        }
        const left = Math.max(0, softAt + graceMs - performance.now());
        await waitGroupGone(this.pid, left, hard);
      }
      if (this.#groupPresent()) {
        this.kill('SIGKILL');
        await waitGroupGone(this.pid, AFTER_KILL_MS);
      }
    }
    this.#groupGone = true;
    return this.#exitInfo!;
  }

  /** Resolves when the child exits, `ms` pass, or a hard stop is requested. */
  #waitExit(ms: number): Promise<void> {
    if (this.#exitInfo || this.#hard.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#exitWaiters.delete(done);
        this.#hard.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#exitWaiters.add(done);
      this.#hard.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Whether any member of the group still runs: `kill(-pgid, 0)` first, /proc only if needed. */
  #groupPresent(): boolean {
    if (this.#groupGone) return false;
    try {
      process.kill(-this.pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') {
        this.#groupGone = true;
        return false;
      }
    }
    // Members exist; zombies (re-parented grandchildren awaiting init) do not count.
    const alive = groupAlive(this.pid);
    if (!alive) this.#groupGone = true;
    return alive;
  }

  /**
   * After the exit: give each read pipe `drainMs` to reach EOF; destroy those still open whose
   * reader keeps up (someone else holds the write end), keep waiting on those whose reader is
   * behind (their data is the caller's to read).
   */
  #settleStdio(): void {
    const reads = [this.stdout, this.stderr].filter((s): s is Readable => s !== null);
    const open = () => reads.filter((s) => !finished(s));
    if (open().length === 0) {
      this.#resolveClosed();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const check = (final: boolean) => {
      const pending = open();
      for (const s of pending) {
        if (final && s.readableLength < s.readableHighWaterMark) s.destroy();
      }
      if (open().length === 0) {
        if (timer) clearTimeout(timer);
        for (const s of reads) s.off('close', onClose).off('end', onClose);
        this.#resolveClosed();
        return true;
      }
      return false;
    };
    const onClose = () => check(false);
    for (const s of reads) s.on('close', onClose).on('end', onClose);
    const tick = () => {
      if (!check(true)) {
        timer = setTimeout(tick, this.#drainMs);
        timer.unref();
      }
    };
    timer = setTimeout(tick, this.#drainMs);
    timer.unref();
  }
}

/** Whether a read pipe is done: destroyed, read to the end, or its EOF already received. */
function finished(s: Readable): boolean {
  if (s.destroyed || s.readableEnded) return true;
  // EOF has arrived but buffered data is still unread: the fd can be released by the stream
  // itself once read; nothing of ours keeps it open. Node exposes this only on the state object.
  const state = (s as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return state?.ended === true;
}
