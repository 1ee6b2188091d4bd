/**
 * `supervise()` and `Child`: one long-running stdio child on top of the OS layer's process core
 * (`spawnGroup`) — line and newline-delimited-JSON I/O, the graceful stop, the restart policy.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import {
  type GroupProcess,
  type ExitInfo as ProcExitInfo,
  type SpawnError,
  spawnGroup,
} from '../proc/index.js';
import { type Child, type ChildEvents, childExit, type ExitInfo } from './child-types.js';
import {
  checkMs,
  type Settings,
  type StopOptions,
  type SuperviseConfig,
  settle,
  stopTimes,
} from './config.js';
import { SupervisorError } from './errors.js';
import { LineFeed } from './line-feed.js';
import { jsonMessages, toJsonLine } from './messages.js';
import type { RestartBudget } from './restart.js';
import { drainStderr } from './stderr-lines.js';

/**
 * Starts `config.argv` in its own process group, stdin, stdout and stderr on real kernel pipes,
 * stderr read line by line into `onStderr`/`onStderrBytes` (always drained, so the child never
 * blocks on it), and resolves once it runs. Rejects with `InvalidOptionError` (a bad option,
 * an empty or malformed argv) or `SpawnError` (`ERR_SLUICE_SPAWN_NOT_FOUND`, `_PERMISSION`,
 * `_BAD_CWD`, `_RESOURCES` when out of fds or processes, `_FAILED`), and then leaves nothing
 * behind; it always settles, whatever the failure.
 *
 * The caller owns the `Child`: it must `stop()` it (or `await using` it) unless it ends on its
 * own, and read its stdout (directly, `lines()` or `messages()`) if the child writes much there.
 *
 * @example
 * ```ts
 * await using child = await supervise({ argv: ['mcp-server-memory'] });
 * const replies = child.messages<{ id?: number }>();
 * await child.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
 * console.log((await replies.next()).value); // { jsonrpc: '2.0', id: 1, result: {} }
 * // leaving the block stops it: stdin EOF, then SIGTERM, then SIGKILL
 * ```
 */
export async function supervise(config: SuperviseConfig): Promise<Child> {
  const settings = settle(config);
  const abort = settings.signal;
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
  /** The current process's stderr, read to its end and handed to the callbacks. */
  #stderrEnded: Promise<void> = Promise.resolve();
  #timer: unknown;
  #respawning: Promise<void> | undefined;
  #feed: LineFeed | undefined;
  #taken = false;
  #reported = new WeakSet<ExitInfo>();
  #exits = new WeakMap<GroupProcess, ExitInfo>();

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
    return jsonMessages<T>(this.#take('messages'), (line, error) => {
      this.#notify(() => this.#s.onParseError?.(line, error));
      this.#notify(() => this.emit('parseError', line, error));
    });
  }

  send(message: unknown): Promise<void> {
    const json = toJsonLine(message);
    if ('error' in json) {
      return Promise.reject(
        new SupervisorError(
          'ERR_SLUICE_SUPERVISOR_NOT_SERIALIZABLE',
          json.error,
          json.cause === undefined ? undefined : { cause: json.cause },
        ),
      );
    }
    const stdin = this.#proc.stdin!;
    if (!this.running || this.#stopRequested || stdin.destroyed || stdin.writableEnded) {
      return Promise.reject(this.#notRunning());
    }
    return new Promise((resolve, reject) => {
      stdin.write(json.line, (err) => {
        if (err) reject(this.#notRunning(err));
        else resolve();
      });
    });
  }

  stop(options: StopOptions = {}): Promise<ExitInfo> {
    try {
      checkMs('graceMs', options.graceMs);
      checkMs('eofTimeoutMs', options.eofTimeoutMs);
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
    const proc = this.#proc;
    const info = this.#exitOf(
      proc,
      await proc.terminate({
        ...stopTimes(this.#s, o),
        ...(this.#stopAbort ? { signal: this.#stopAbort.signal } : {}),
      }),
    );
    await this.#stderrEnded;
    this.#lastExit = info;
    this.#reportExit(info, false);
    this.#finish(info);
    return info;
  }

  #notRunning(cause?: unknown): SupervisorError {
    return new SupervisorError(
      'ERR_SLUICE_SUPERVISOR_NOT_RUNNING',
      `cannot send: ${this.#s.argv[0]} is not running`,
      cause === undefined ? undefined : { cause },
    );
  }

  #take(what: string): LineFeed {
    if (this.#taken) {
      throw new SupervisorError(
        'ERR_SLUICE_SUPERVISOR_STDOUT_TAKEN',
        `${what}(): stdout already has a line reader`,
      );
    }
    this.#taken = true;
    const feed = new LineFeed({
      maxQueueBytes: this.#s.maxQueueBytes,
      maxLineBytes: this.#s.maxLineBytes,
    });
    this.#feed = feed;
    feed.add(this.#proc.stdout!);
    if (this.#final) feed.finish();
    return feed;
  }

  #spawn(): Promise<GroupProcess> {
    const s = this.#s;
    return spawnGroup({
      argv: s.argv,
      ...(s.cwd === undefined ? {} : { cwd: s.cwd }),
      ...(s.env === undefined ? {} : { env: s.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Makes `proc` the current process: stderr reader, line feed, exit handling. */
  #adopt(proc: GroupProcess): void {
    this.#proc = proc;
    this.#startedAt = this.#s.clock.now();
    const stderr = drainStderr(proc.stderr!, {
      onText: this.#s.onStderr,
      onBytes: this.#s.onStderrBytes,
      maxLineBytes: this.#s.maxLineBytes,
    });
    void proc.exited.then(() => stderr.release());
    this.#stderrEnded = stderr.ended;
    this.#feed?.add(proc.stdout!);
    this.#notify(() => this.emit('spawn', proc.pid));
    // An exit is handled once stderr has been read to its end, so every stderr line reached
    // onStderr before 'exit', a restart or `done`.
    void Promise.all([proc.exited, stderr.ended]).then(([info]) =>
      this.#onExit(proc, this.#exitOf(proc, info)),
    );
  }

  /** The one `ExitInfo` object of `proc` (events and `done` hand out the same object). */
  #exitOf(proc: GroupProcess, info: ProcExitInfo): ExitInfo {
    let out = this.#exits.get(proc);
    if (!out) {
      out = childExit(info, proc);
      this.#exits.set(proc, out);
    }
    return out;
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
    const failed = info.exitCode !== 0 || info.signal !== null;
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
