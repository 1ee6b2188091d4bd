/**
 * `supervise()` and `Child`: one long-running stdio child on top of the process core — line and
 * newline-delimited-JSON I/O, the graceful stop, the restart policy.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { type SpawnError, SupervisorError } from './errors.js';
import { LineFeed, readLines } from './lines.js';
import { type ExitInfo, type GroupProcess, spawnGroup } from './process.js';
import { type Clock, RestartBudget, type RestartPolicy, systemClock } from './restart.js';

/** What `supervise()` starts and how. */
export interface SuperviseConfig {
  /** The program and its arguments. Required; an empty one rejects with `ERR_SPAWN_EMPTY_ARGV`. */
  cmd: readonly string[];
  /** Working directory. */
  cwd?: string;
  /** Laid over this process's environment, later keys winning; `undefined` removes a key. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 5000 ms. */
  stopGraceMs?: number;
  /**
   * How long `stop()` waits, after closing stdin, for the child to exit on EOF before SIGTERM.
   * Default 250 ms, capped at `stopGraceMs`; 0 sends SIGTERM at once.
   */
  stopEofMs?: number;
  /** Called with every stderr line (without its newline). Without it stderr is still drained. */
  onStderr?: (line: string) => void;
  /** Called for every non-empty stdout line `messages()` cannot parse as JSON. */
  onParseError?: (line: string, error: Error) => void;
  /** Restart the child when it exits on its own. Off when absent. */
  restart?: RestartPolicy;
  /** The clock the restart policy runs on. Default: the real one. */
  clock?: Clock;
  /** Longer stdout/stderr lines are cut into pieces of this many characters. Default 16 MiB. */
  maxLineLength?: number;
  /**
   * Aborting it stops the child for good, gracefully (`stop()` with the configured times). An
   * already-aborted signal makes `supervise()` reject with its reason before anything starts.
   */
  signal?: AbortSignal;
}

/** Options of `Child.stop`. */
export interface StopOptions {
  /** Overrides `stopGraceMs` for this stop. */
  graceMs?: number;
  /** Overrides `stopEofMs` for this stop. */
  eofMs?: number;
  /** Aborting it skips whatever waiting is left and SIGKILLs the group at once. */
  signal?: AbortSignal;
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
  giveup: [event: { restarts: number; exit: ExitInfo | undefined }];
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
   * The stdout lines of every process of this child, in order, without their newline (`\r\n`
   * too). Ends when the child is done for good. Once 1024 lines wait for the consumer stdout is
   * paused, so the child blocks (the lines of the read that crossed the mark, at most 64 KiB of
   * output, are queued too: memory stays bounded). Leaving the loop early drains the rest unread.
   * Call it (or `messages()`) once, before the child exits: stdout has one line reader (a second
   * call throws `ERR_STDOUT_TAKEN`), and output of a process that exited while nobody read its
   * stdout is discarded, as Node does. Later processes of a restarted child are always read.
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
   * the kernel (await it for backpressure). Rejects with `ERR_NOT_SERIALIZABLE` when there is no
   * JSON for it, and `ERR_NOT_RUNNING` when no process runs (stopped, exited, between restarts)
   * or stdin was closed.
   */
  send(message: unknown): Promise<void>;
  /**
   * Resolves (never rejects) with the last process's `ExitInfo` once the child is done for good:
   * it exited with no restart to follow, gave up, or was stopped — and nothing is left running in
   * its process group.
   */
  readonly done: Promise<ExitInfo>;
  /** The value `done` resolves with, once it has; undefined before. */
  readonly exitInfo: ExitInfo | undefined;
  /** How the most recent process ended (also between restarts); undefined while the first runs. */
  readonly lastExit: ExitInfo | undefined;
  /**
   * Stops the child for good: cancels a pending restart, closes stdin, waits up to `eofMs` for an
   * exit on EOF, SIGTERMs the group, waits `graceMs`, SIGKILLs the group; resolves with `done`'s
   * value. Idempotent and safe to call concurrently (every call gets the same result; a later
   * call's `signal` still escalates). Aborting `signal` SIGKILLs at once. Rejects with
   * `ERR_SUPERVISOR_CONFIG` for a negative or non-finite time, and then changes nothing.
   */
  stop(options?: StopOptions): Promise<ExitInfo>;
}

const DEFAULT_GRACE_MS = 5000;
const DEFAULT_EOF_MS = 250;
const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

function configError(message: string): SupervisorError {
  return new SupervisorError('ERR_SUPERVISOR_CONFIG', message);
}

function checkMs(name: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
    throw configError(`${name} must be a finite number >= 0, got ${String(v)}`);
  }
}

/** What `ChildImpl` needs from its config, checked and with defaults. */
interface Settings {
  config: SuperviseConfig;
  graceMs: number;
  eofMs: number;
  maxLine: number;
  clock: Clock;
  budget: RestartBudget | undefined;
}

function settle(config: SuperviseConfig): Settings {
  if (config === null || typeof config !== 'object') {
    throw configError('supervise() needs a config object with a cmd');
  }
  checkMs('stopGraceMs', config.stopGraceMs);
  checkMs('stopEofMs', config.stopEofMs);
  if (config.onStderr !== undefined && typeof config.onStderr !== 'function') {
    throw configError('onStderr must be a function');
  }
  if (config.signal !== undefined && !(config.signal instanceof AbortSignal)) {
    throw configError('signal must be an AbortSignal');
  }
  if (config.onParseError !== undefined && typeof config.onParseError !== 'function') {
    throw configError('onParseError must be a function');
  }
  const maxLine = config.maxLineLength ?? DEFAULT_MAX_LINE;
  if (!(Number.isSafeInteger(maxLine) && maxLine > 0)) {
    throw configError(`maxLineLength must be a positive integer, got ${String(maxLine)}`);
  }
  let budget: RestartBudget | undefined;
  if (config.restart !== undefined) {
    if (config.restart === null || typeof config.restart !== 'object') {
      throw configError('restart must be an object (a restart policy)');
    }
    try {
      budget = new RestartBudget(config.restart);
    } catch (e) {
      throw new SupervisorError('ERR_SUPERVISOR_CONFIG', (e as Error).message, { cause: e });
    }
  }
  const graceMs = config.stopGraceMs ?? DEFAULT_GRACE_MS;
  return {
    config,
    graceMs,
    eofMs: Math.min(config.stopEofMs ?? DEFAULT_EOF_MS, graceMs),
    maxLine,
    clock: config.clock ?? systemClock,
    budget,
  };
}

/**
 * Starts `config.cmd` in its own process group with stdin and stdout piped and stderr read line
 * by line into `onStderr` (always drained, so the child never blocks on it), and resolves once
 * it runs. Rejects with `SpawnError` (empty cmd, missing binary, not executable, bad cwd) or
 * `SupervisorError` (`ERR_SUPERVISOR_CONFIG`) and then leaves nothing behind.
 *
 * The caller owns the `Child`: it must `stop()` it (or `await using` it) unless it ends on its
 * own, and read its stdout (directly, `lines()` or `messages()`) if the child writes much there.
 */
export async function supervise(config: SuperviseConfig): Promise<Child> {
  const settings = settle(config);
  const abort = config.signal;
  abort?.throwIfAborted();
  const child = new ChildImpl(settings);
  await child.start();
  if (abort) {
    const onAbort = () => void child.stop();
    abort.addEventListener('abort', onAbort, { once: true });
    void child.done.then(() => abort.removeEventListener('abort', onAbort));
    if (abort.aborted) onAbort(); // aborted while the first process was starting
  }
  return child;
}

class ChildImpl extends EventEmitter<ChildEvents> implements Child {
  readonly done: Promise<ExitInfo>;
  #s: Settings;
  #proc!: GroupProcess;
  #startedAt = 0;
  #restarts = 0;
  #lastExit: ExitInfo | undefined;
  #final: ExitInfo | undefined;
  #resolveDone!: (info: ExitInfo) => void;
  #stopRequested = false;
  #stopping: Promise<ExitInfo> | undefined;
  /** Created on the first stop with a signal: a hard stop of the current process. */
  #stopAbort: AbortController | undefined;
  #timer: unknown;
  #respawning: Promise<void> | undefined;
  #feed: LineFeed | undefined;
  #taken = false;
  #reported = new WeakSet<ExitInfo>();

  constructor(settings: Settings) {
    super();
    this.#s = settings;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** The first spawn: its failure is `supervise()`'s rejection. */
  async start(): Promise<void> {
    this.#adopt(await this.#spawn());
  }

  get pid(): number {
    return this.#proc.pid;
  }

  get running(): boolean {
    return this.#proc.exitInfo === undefined && this.#final === undefined;
  }

  get restarts(): number {
    return this.#restarts;
  }

  get stdin(): Writable {
    return this.#proc.stdin!;
  }

  get stdout(): Readable {
    return this.#proc.stdout!;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#final;
  }

  get lastExit(): ExitInfo | undefined {
    return this.#lastExit;
  }

  lines(): AsyncIterableIterator<string> {
    return this.#take('lines');
  }

  messages<T = unknown>(): AsyncIterableIterator<T> {
    const lines = this.#take('messages');
    const report = (line: string, error: Error) => {
      this.#s.config.onParseError?.(line, error);
      this.emit('parseError', line, error);
    };
    const iterator: AsyncIterableIterator<T> = {
      async next(): Promise<IteratorResult<T>> {
        for (;;) {
          const r = await lines.next();
          if (r.done) return { done: true, value: undefined };
          const text = r.value.trim();
          if (text.length === 0) continue;
          try {
            return { done: false, value: JSON.parse(text) as T };
          } catch (e) {
            report(r.value, e as Error);
          }
        }
      },
      async return(): Promise<IteratorResult<T>> {
        await lines.return?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  send(message: unknown): Promise<void> {
    let text: string | undefined;
    try {
      text = JSON.stringify(message);
    } catch (e) {
      return Promise.reject(
        new SupervisorError('ERR_NOT_SERIALIZABLE', `cannot send: ${(e as Error).message}`, {
          cause: e,
        }),
      );
    }
    if (text === undefined) {
      return Promise.reject(
        new SupervisorError('ERR_NOT_SERIALIZABLE', `cannot send ${typeof message} as JSON`),
      );
    }
    const stdin = this.#proc.stdin!;
    if (!this.running || this.#stopRequested || stdin.destroyed || stdin.writableEnded) {
      return Promise.reject(this.#notRunning());
    }
    return new Promise((resolve, reject) => {
      stdin.write(`${text}\n`, (err) => {
        if (err) reject(this.#notRunning(err));
        else resolve();
      });
    });
  }

  stop(options: StopOptions = {}): Promise<ExitInfo> {
    try {
      checkMs('graceMs', options.graceMs);
      checkMs('eofMs', options.eofMs);
    } catch (e) {
      return Promise.reject(e);
    }
    const abort = options.signal;
    if (abort && !this.#final) {
      this.#stopAbort ??= new AbortController();
      const ac = this.#stopAbort;
      if (abort.aborted) ac.abort();
      else {
        const on = () => ac.abort();
        abort.addEventListener('abort', on, { once: true });
        void this.done.then(() => abort.removeEventListener('abort', on));
      }
      // A stop (or the sweep after an exit) already under way joins and listens too.
      if (this.#proc.stopping) void this.#proc.terminate({ signal: ac.signal });
    }
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(o: StopOptions): Promise<ExitInfo> {
    this.#stopRequested = true;
    if (this.#timer !== undefined) {
      this.#s.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#respawning;
    const graceMs = o.graceMs ?? this.#s.graceMs;
    const info = await this.#proc.terminate({
      graceMs,
      eofMs: Math.min(o.eofMs ?? this.#s.eofMs, graceMs),
      ...(this.#stopAbort ? { signal: this.#stopAbort.signal } : {}),
    });
    this.#lastExit = info;
    this.#reportExit(info, false);
    this.#finish(info);
    return info;
  }

  #notRunning(cause?: unknown): SupervisorError {
    return new SupervisorError(
      'ERR_NOT_RUNNING',
      `cannot send: ${this.#s.config.cmd[0]} is not running`,
      cause === undefined ? undefined : { cause },
    );
  }

  #take(what: string): LineFeed {
    if (this.#taken) {
      throw new SupervisorError('ERR_STDOUT_TAKEN', `${what}(): stdout already has a line reader`);
    }
    this.#taken = true;
    const feed = new LineFeed({ maxLength: this.#s.maxLine });
    this.#feed = feed;
    feed.add(this.#proc.stdout!);
    if (this.#final) feed.finish();
    return feed;
  }

  #spawn(): Promise<GroupProcess> {
    const c = this.#s.config;
    return spawnGroup({
      argv: c.cmd,
      ...(c.cwd === undefined ? {} : { cwd: c.cwd }),
      ...(c.env === undefined ? {} : { env: c.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Makes `proc` the current process: stderr reader, line feed, exit handling. */
  #adopt(proc: GroupProcess): void {
    this.#proc = proc;
    this.#startedAt = this.#s.clock.now();
    const onStderr = this.#s.config.onStderr;
    readLines(proc.stderr!, onStderr ?? (() => {}), this.#s.maxLine);
    this.#feed?.add(proc.stdout!);
    this.#notify(() => this.emit('spawn', proc.pid));
    void proc.exited.then((info) => this.#onExit(proc, info));
  }

  async #onExit(proc: GroupProcess, info: ExitInfo): Promise<void> {
    const exitedAt = this.#s.clock.now();
    if (this.#stopRequested) return; // #stop reports it
    this.#lastExit = info;
    // Whatever it left in its group goes too, before a new one starts or the child is done.
    await proc.terminate({
      graceMs: this.#s.graceMs,
      ...(this.#stopAbort ? { signal: this.#stopAbort.signal } : {}),
    });
    if (this.#stopRequested) return;
    const failed = info.code !== 0 || info.signal !== null;
    const decision = this.#s.budget?.onExit(this.#startedAt, exitedAt, failed);
    this.#next(decision, info);
  }

  /** Schedules a restart or finishes, after an exit or a failed restart. */
  #next(decision: ReturnType<RestartBudget['onExit']> | undefined, exit: ExitInfo | undefined) {
    if (!decision?.restart) {
      if (exit) this.#reportExit(exit, false);
      if (decision?.reason === 'gave-up') {
        this.#notify(() => this.emit('giveup', { restarts: this.#restarts, exit }));
      }
      this.#finish(this.#lastExit!);
      return;
    }
    if (exit) this.#reportExit(exit, true);
    this.#notify(() =>
      this.emit('restart', { attempt: decision.attempt, delayMs: decision.delayMs, exit }),
    );
    this.#timer = this.#s.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#respawning = this.#respawn();
    }, decision.delayMs);
  }

  async #respawn(): Promise<void> {
    if (this.#stopRequested) return;
    const startedAt = this.#s.clock.now();
    let proc: GroupProcess;
    try {
      proc = await this.#spawn();
    } catch (e) {
      this.#notify(() => this.emit('spawnError', e as SpawnError));
      if (this.#stopRequested) return;
      this.#next(this.#s.budget!.onExit(startedAt, this.#s.clock.now(), true), undefined);
      return;
    }
    this.#restarts++;
    this.#adopt(proc);
  }

  /**
   * Runs a listener call so that a throwing listener cannot break the child's bookkeeping (a
   * restart not scheduled, `done` never resolved): the error is rethrown on its own, as an
   * uncaught exception, the way an EventEmitter listener error surfaces anyway.
   */
  #notify(call: () => void): void {
    try {
      call();
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** Emits 'exit' once per process. */
  #reportExit(info: ExitInfo, willRestart: boolean): void {
    if (this.#reported.has(info)) return;
    this.#reported.add(info);
    this.#notify(() => this.emit('exit', info, willRestart));
  }

  #finish(info: ExitInfo): void {
    if (this.#final) return;
    this.#final = info;
    this.#feed?.finish();
    this.#resolveDone(info);
  }
}
