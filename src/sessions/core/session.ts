/**
 * `Session`: one child process owned by a registry, with a ring backlog per output stream that
 * fills whether or not anyone is attached. The kind-specific parts (how the child is started,
 * read, written, resized and stopped) live in `PipeSession` and `PtySession`; this file holds
 * what both share: attach and snapshot, stdin bookkeeping, the exit record and its events.
 *
 * Events: `'output'` `(stream, chunk, offset)` for every chunk read (after it entered the ring;
 * the chunk is the listener's to keep: its memory is never reused, whatever the session reads next);
 * `'exit'` `(exitInfo)` once, after the last output was read. `exited` is the same as a promise.
 */

import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { DEFAULT_GRACE_MS, type ExitInfo, InvalidOptionError } from '../../proc/index.js';
import type { ScreenModel } from '../screen/screen-model.js';
import type { Attachment, AttachmentHost, AttachOptions } from './attachment.js';
import { SessionExitedError, StdinClosedError, StreamUnavailableError } from './errors.js';
import { OutputStream, type Snapshot } from './output-stream.js';
import { SessionRestarts } from './restarts.js';
import type {
  ExitState,
  PtySize,
  SessionEvents,
  SessionInfo,
  SessionKind,
  SpawnSessionOptions,
  StreamName,
  TerminateOptions,
  WriteStdinOptions,
} from './types.js';

export type { SessionEvents, TerminateOptions, WriteStdinOptions } from './types.js';

/** What the registry hands a session when it makes one. */
export interface SessionInit {
  id: string;
  options: SpawnSessionOptions;
  maxRingBytes: number;
  /** Whether a PTY session keeps a screen model (default true). */
  screen?: boolean;
  /** Default bound of an attachment's queue. */
  maxAttachQueueBytes?: number;
}

/** Scrollback lines a viewer of another size gets (its drawing is reflowed on the daemon). */
export const VIEWER_REFLOW_LINES = 2000;

/** Quotes one argv word for display the way a POSIX shell would need it. */
export function quoteWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * One session (see the module comment). Its child is always reaped and, once the registry
 * releases it, nothing of it is left: no fd, no process of its group, no attachment.
 */
export abstract class Session extends EventEmitter<SessionEvents> {
  /** The registry-assigned id, unique for the registry's lifetime. */
  readonly id: string;
  /** Whether it runs on pipes or on a pseudo-terminal. */
  abstract readonly kind: SessionKind;
  /** The program and its arguments as spawned. */
  readonly argv: readonly string[];
  /** The argv for display, shell-quoted where needed. */
  readonly command: string;
  /** The absolute working directory the program was started in. */
  readonly cwd: string;
  /** Who asked for the session, as given to `spawn`; empty when not given. */
  readonly originator: string;
  /** When the session was spawned, in ms since the epoch. */
  readonly createdAt: number;
  /** Resolves (never rejects) with how the child ended, after the last output was read. */
  readonly exited: Promise<ExitInfo>;
  #exitInfo: ExitInfo | null = null;
  #exitedAt: number | null = null;
  /** Whether sluice closed stdin (`writeStdin(…, { close: true })`): an exit after it is `'eof'`. */
  #closedStdin = false;
  /** Whether a stop began: an exit after it is never `'eof'`. */
  #stopBegan = false;
  #resolveExited!: (s: ExitInfo) => void;
  protected readonly streamMap = new Map<StreamName, OutputStream>();
  protected stdinClosedFlag = false;
  #host: AttachmentHost;
  #attachQueueBytes: number | undefined;
  #disposing: Promise<void> | undefined;
  /** The restart policy's bookkeeping, when the spawn asked for restarts. */
  readonly #restarts: SessionRestarts | undefined;
  #lastExit: ExitInfo | null = null;
  /** The last byte pushed to stdout, so a marker line starts on a line of its own. */
  #lastStdoutByte = 0x0a;

  protected constructor(init: SessionInit, streams: StreamName[]) {
    super();
    this.id = init.id;
    this.argv = [...init.options.argv];
    this.command = this.argv.map(quoteWord).join(' ');
    this.cwd = init.options.cwd ?? process.cwd();
    this.originator = init.options.originator ?? '';
    this.createdAt = Date.now();
    this.#attachQueueBytes = init.maxAttachQueueBytes;
    // Validates the policy (InvalidOptionError naming the field) before anything starts.
    this.#restarts =
      init.options.restart === undefined ? undefined : new SessionRestarts(init.options.restart);
    this.exited = new Promise((r) => {
      this.#resolveExited = r;
    });
    this.#host = {
      sessionId: this.id,
      writeInput: (data) => this.writeStdin(data),
      closeInput: () => this.writeStdin('', { close: true }).then(() => undefined),
      resize: (rows, cols) => this.resize(rows, cols),
      release: (a) => this.streamMap.get(a.stream)?.release(a),
      holdReading: (stream, held) => this.holdReading(stream, held),
    };
    for (const name of streams) {
      this.streamMap.set(name, new OutputStream(this.#host, name, init.maxRingBytes));
    }
  }

  /** The child's pid; it leads its own process group (pgid = pid). */
  abstract get pid(): number;

  /**
   * Null while the child runs; how it ended once the exit and its last output were read. The
   * outcome: `'natural'` when it ended on its own; `'eof'` when it ended after
   * `writeStdin(…, { close: true })` and before any `terminate`; `'soft'` when it ended after
   * `terminate` began and before SIGKILL was sent; `'hard'` when SIGKILL was sent before the
   * exit was seen (the grace ran out, or `graceMs` was 0). The rule is causal, not timed: an
   * exit is `'hard'` only if SIGKILL was actually sent first.
   */
  get exitInfo(): ExitInfo | null {
    return this.#exitInfo;
  }

  /** When the exit was recorded, in ms since the epoch; null while the child runs. */
  get exitedAt(): number | null {
    return this.#exitedAt;
  }

  /** @deprecated Use `exitInfo` and `exitedAt`: this is the two together, as `exitState` was. */
  get exitState(): ExitState | null {
    return this.#exitInfo ? { ...this.#exitInfo, exitedAt: this.#exitedAt ?? 0 } : null;
  }

  /** Whether the exit has been recorded. */
  get hasExited(): boolean {
    return this.#exitInfo !== null;
  }

  /** The streams this session has, in order. */
  get streams(): StreamName[] {
    return [...this.streamMap.keys()];
  }

  /** Whether stdin was closed (by `writeStdin(…, { close: true })`, the child or the exit). */
  get stdinClosed(): boolean {
    return this.stdinClosedFlag || this.#exitInfo !== null;
  }

  /** For a PTY its size; null for a pipe session. */
  get size(): PtySize | null {
    return null;
  }

  /**
   * A PTY session's screen model (docs/screens.md); undefined for a pipe session or when the
   * registry runs without screens.
   */
  get screen(): ScreenModel | undefined {
    return undefined;
  }

  /**
   * Attaches with a drawing of the screen instead of the raw backlog: waits until the screen
   * model has parsed every byte written before the call, serializes it (reflowed to `rows` ×
   * `cols` when given and different from the session's size, with the last 2,000 lines of
   * scrollback: the policy for viewers of another size), then attaches from exactly that
   * offset, so `attachment.backlog` holds only what was written after the drawing and nothing
   * is lost or repeated between the two. The drawing never holds a terminal query. Without a
   * screen (a pipe session, screens off) it is `attach` with an empty `screen`. Rejects as
   * `attach` throws; the seat is only taken once the drawing is ready.
   */
  async attachScreen(
    stream: StreamName = 'stdout',
    options: AttachOptions & { rows?: number; cols?: number } = {},
  ): Promise<{
    /** The attachment, starting right after the drawing; the caller detaches it. */
    attachment: Attachment;
    /**
     * Bytes that draw the screen; write them to a terminal before `attachment.backlog`. Joined
     * from `screenParts` on first read.
     */
    readonly screen: Buffer;
    /** `screen` in pieces, in order, never joined: write them one after the other. */
    readonly screenParts: readonly Buffer[];
  }> {
    const { rows, cols, ...attachOptions } = options;
    const model = this.screen;
    if (!model || stream !== 'stdout' || attachOptions.fromOffset !== undefined) {
      const attachment = this.attach(stream, attachOptions);
      return { attachment, screen: Buffer.alloc(0), screenParts: [] };
    }
    const size = this.size;
    // A viewer of another size gets a reflowed copy; the reflow runs on the daemon's thread, so
    // it carries the most recent VIEWER_REFLOW_LINES lines of scrollback, not all of them.
    const fit =
      rows !== undefined && cols !== undefined && (rows !== size?.rows || cols !== size?.cols)
        ? { rows, cols, scrollback: VIEWER_REFLOW_LINES }
        : {};
    const snap = await model.snapshot(fit);
    const attachment = this.attach(stream, { ...attachOptions, fromOffset: snap.offset });
    return {
      attachment,
      get screen(): Buffer {
        return snap.data;
      },
      screenParts: snap.parts,
    };
  }

  /**
   * Attaches a client to `stream` (default `stdout`): it gets a copy of the backlog (everything
   * the ring keeps, or from `fromOffset`) and then every chunk read after this call, in order,
   * through a bounded queue. One writer per stream: a second non-read-only attach throws
   * `AlreadyAttachedError` unless it `steal`s (the evicted one gets a `stolen` frame). Read-only
   * viewers are unlimited. Attaching after the exit works: backlog, then `eof`/`exit` frames.
   * Throws `StreamUnavailableError` for a stream the session does not have. The caller must
   * consume the attachment or `detach()` it; it holds nothing else.
   */
  attach(stream: StreamName = 'stdout', options: AttachOptions = {}): Attachment {
    const s = this.#stream(stream);
    if (options.maxQueueBytes === undefined && this.#attachQueueBytes !== undefined) {
      return s.attach({ ...options, maxQueueBytes: this.#attachQueueBytes });
    }
    return s.attach(options);
  }

  /**
   * A copy of `stream`'s backlog (default `stdout`) and how many bytes the ring dropped before
   * it. Never consumes: later attaches and snapshots still see the same bytes.
   */
  snapshot(stream: StreamName = 'stdout', options: { fromOffset?: number } = {}): Snapshot {
    return this.#stream(stream).snapshot(options.fromOffset);
  }

  /**
   * Writes `data` (a string is UTF-8) to the child's stdin and resolves with the bytes written
   * once the kernel took them; with `{ close: true }` then closes stdin (a PTY gets Ctrl-D).
   * Rejects with `StdinClosedError` once stdin was closed (by an earlier close, or by the child),
   * `SessionExitedError` after the exit, `InvalidOptionError` for data that is not a string or
   * bytes. Writes are delivered in call order. A child that never reads makes the promise wait
   * (the kernel buffer is full); it never blocks this process.
   */
  writeStdin(data: string | Uint8Array, options: WriteStdinOptions = {}): Promise<number> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      return Promise.reject(new InvalidOptionError('data', 'stdin data must be a string or bytes'));
    }
    if (this.#exitInfo) return Promise.reject(new SessionExitedError(this.id, 'write to stdin'));
    if (this.stdinClosedFlag) return Promise.reject(new StdinClosedError(this.id));
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const close = options.close === true;
    // Nothing to write and nothing to close: settle at once (a zero-length write would never
    // call back on some streams).
    if (buf.length === 0 && !close) return Promise.resolve(0);
    if (close) {
      this.stdinClosedFlag = true;
      this.#closedStdin = true;
    }
    return this.writeInput(buf, close);
  }

  /**
   * Resizes the PTY (rows, cols: note the order, unlike node-pty's). Throws `NotAPtyError` for a
   * pipe session, `SessionExitedError` after the exit, `InvalidOptionError` unless both are
   * integers in 1..65535.
   */
  abstract resize(rows: number, cols: number): void;

  /**
   * Stops the child and everything left in its process group: the soft signal to the group,
   * `graceMs`, then SIGKILL to the group. Returns at once; the promise resolves (never rejects)
   * with the exit record once the child's output was read and no member of its group runs. The
   * outcome is `'soft'` when it ended before SIGKILL, `'hard'` when SIGKILL was needed. Called
   * again, it joins the stop under way; called after the exit, it sweeps what is left in the
   * group and resolves with the recorded exit. Throws `InvalidOptionError` for a negative or
   * non-finite `graceMs` or a `softSignal` that is not a signal name.
   */
  terminate(options: TerminateOptions = {}): Promise<ExitInfo> {
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      throw new InvalidOptionError('graceMs', `must be a finite number >= 0, got ${graceMs}`);
    }
    const soft = options.softSignal;
    if (soft !== undefined && !(typeof soft === 'string' && soft in osConstants.signals)) {
      throw new InvalidOptionError('softSignal', `must be a signal name, got ${String(soft)}`);
    }
    this.#stopBegan = true;
    // Between two runs nothing runs: the session ends with the last run's exit.
    if (this.#restarts?.cancel() && this.#lastExit) this.recordExit(this.#lastExit);
    const done = this.stop(graceMs, soft);
    return Promise.all([done, this.exited]).then(([, s]) => s);
  }

  /** This session as plain data (what the daemon lists). */
  info(): SessionInfo {
    const attachments: SessionInfo['attachments'] = {};
    for (const [name, s] of this.streamMap) {
      attachments[name] = {
        writer: s.hasWriter,
        viewers: s.viewerCount,
        bytes: s.ring.end,
        dropped: s.ring.dropped,
      };
    }
    return {
      id: this.id,
      pid: this.pid,
      kind: this.kind,
      command: this.command,
      argv: [...this.argv],
      cwd: this.cwd,
      originator: this.originator,
      createdAt: this.createdAt,
      state: this.#exitInfo ? 'exited' : 'running',
      exitInfo: this.#exitInfo,
      exitedAt: this.#exitedAt,
      streams: this.streams,
      attachments,
      stdinClosed: this.stdinClosed,
      size: this.size,
      restarts: this.restarts,
      lastExit: this.#lastExit,
    };
  }

  /** How many times the restart policy started the program again. */
  get restarts(): number {
    return this.#restarts?.count ?? 0;
  }

  /** How the latest run ended (while restarting, the run before this one); null before. */
  get lastExit(): ExitInfo | null {
    return this.#lastExit;
  }

  /** The same as `info()`, so `JSON.stringify(session)` gives its plain description. */
  toJSON(): SessionInfo {
    return this.info();
  }

  /**
   * @internal Releases everything the session holds: detaches its clients, SIGKILLs whatever is
   * left in its group and closes its fds. Resolves once the child is reaped and the fds closed.
   * The registry calls this on `remove`, `purgeExited` and `shutdown`.
   */
  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      if (this.#restarts?.cancel() && this.#lastExit) this.recordExit(this.#lastExit);
      for (const s of this.streamMap.values()) s.detachAll();
      await this.release();
    })();
    return this.#disposing;
  }

  // ---- for the kinds ---------------------------------------------------------------------

  /** Writes to the child's input; `close` closes it after. */
  protected abstract writeInput(data: Buffer, close: boolean): Promise<number>;

  /** Begins (or joins) the stop; resolves when the group is gone. */
  protected abstract stop(graceMs: number, softSignal?: NodeJS.Signals): Promise<void>;

  /** SIGKILLs what is left, closes every fd; resolves when all is released. */
  protected abstract release(): Promise<void>;

  /**
   * Stops (`held`) or resumes reading the program's output on `stream`, for lossless
   * attachments (see `AttachOptions.lossless`). A kind that reads by other means too (a PTY's
   * screen) resumes only when nothing else holds it.
   */
  protected abstract holdReading(stream: StreamName, held: boolean): void;

  /** Whether a lossless attachment holds `stream`'s output now (a new reader starts paused). */
  protected readingHeld(stream: StreamName): boolean {
    return this.streamMap.get(stream)?.held === true;
  }

  /** Starts the program again for the restart policy (same options, same streams). */
  protected abstract respawn(): Promise<void>;

  /** Whether the session restarts its program: streams then end only at the final exit. */
  protected get restartsEnabled(): boolean {
    return this.#restarts !== undefined;
  }

  /**
   * One run of the program ended (its output read to the end). With a restart policy that says
   * so, writes a marker line and starts it again after the policy's delay; otherwise records the
   * session's exit.
   */
  protected childExited(info: ExitInfo): void {
    if (this.#exitInfo) return;
    this.#lastExit = { exitCode: info.exitCode, signal: info.signal, outcome: info.outcome };
    const restarts = this.#restarts;
    if (restarts && !this.#stopBegan && this.#disposing === undefined) {
      const step = restarts.ended(info);
      if (step.marker) this.pushMarker(step.marker);
      if (step.restart) {
        restarts.wait(step.delayMs, () => void this.#restartNow(restarts));
        return;
      }
    }
    this.recordExit(info);
  }

  async #restartNow(restarts: SessionRestarts): Promise<void> {
    if (this.#exitInfo) return;
    this.stdinClosedFlag = false;
    this.#closedStdin = false;
    try {
      await this.respawn();
      restarts.started();
      // Terminated while it was starting: end this run as well.
      if (this.#stopBegan) void this.stop(0);
    } catch (e) {
      this.pushMarker(`[sluice: restart failed: ${e instanceof Error ? e.message : String(e)}]`);
      if (this.#lastExit) this.recordExit(this.#lastExit);
    }
  }

  /** Writes one line of sluice's own into stdout's backlog, on a line of its own. */
  protected pushMarker(line: string): void {
    const start = this.#lastStdoutByte === 0x0a ? '' : this.markerNewline;
    this.markerOutput(Buffer.from(`${start}${line}${this.markerNewline}`));
  }

  /** Where a marker line goes: stdout's ring and attachments (a PTY also feeds its screen). */
  protected markerOutput(bytes: Buffer): void {
    this.pushOutput('stdout', bytes);
  }

  /** The line end of marker lines: `\n`, or `\r\n` on a terminal. */
  protected get markerNewline(): string {
    return '\n';
  }

  /**
   * Where the next read of `stream` should land: memory of its own when someone receives the
   * chunks (an attachment, an 'output' listener), so they need no copy besides the ring's;
   * otherwise `shared`, a buffer the ring copies out of and the next read reuses.
   */
  protected readTarget(stream: StreamName, shared: Buffer): Buffer {
    const s = this.streamMap.get(stream);
    if (s && (s.attached || this.listenerCount('output') > 0)) return s.readSpace();
    return shared;
  }

  /** A read of `bytes` landed in `target` (from `readTarget` with the same `shared`). */
  protected pushRead(stream: StreamName, target: Uint8Array, bytes: number, shared: Buffer): void {
    const chunk = Buffer.from(target.buffer, target.byteOffset, bytes);
    if (target === shared) {
      this.pushOutput(stream, chunk, true);
      return;
    }
    this.streamMap.get(stream)?.claim(target, bytes);
    this.pushOutput(stream, chunk);
  }

  /**
   * Hands a chunk read from `stream` to its ring and attachments, then to 'output' listeners.
   * A `transient` chunk is a view of a read buffer that the next read overwrites: the ring
   * copies it as always, and only when someone gets the chunk itself (an attachment, an
   * 'output' listener) is it copied once more, into memory of its own that they all share.
   */
  protected pushOutput(stream: StreamName, chunk: Buffer, transient = false): void {
    const s = this.streamMap.get(stream);
    if (!s || chunk.length === 0) return;
    if (stream === 'stdout') this.#lastStdoutByte = chunk[chunk.length - 1]!;
    const listened = this.listenerCount('output') > 0;
    const kept = transient && (listened || s.attached) ? s.keep(chunk) : chunk;
    const offset = s.push(kept);
    if (listened) this.emit('output', stream, kept, offset);
  }

  /** Marks `stream` as ended (EOF); with restarts, only the final exit ends the streams. */
  protected endStream(stream: StreamName): void {
    if (this.#restarts && !this.#exitInfo) return;
    this.streamMap.get(stream)?.end();
  }

  /**
   * Records the exit once, after the kind has read the last output. A `'natural'` exit after
   * sluice closed stdin (and before any stop) becomes `'eof'`.
   */
  protected recordExit(info: ExitInfo): void {
    if (this.#exitInfo) return;
    const outcome =
      info.outcome === 'natural' && this.#closedStdin && !this.#stopBegan ? 'eof' : info.outcome;
    const exit: ExitInfo = { exitCode: info.exitCode, signal: info.signal, outcome };
    this.#exitInfo = exit;
    this.#exitedAt = Date.now();
    for (const s of this.streamMap.values()) {
      s.end();
      s.finish(exit, this.#exitedAt);
    }
    this.#resolveExited(exit);
    this.emit('exit', exit);
  }

  #stream(stream: StreamName): OutputStream {
    const s = this.streamMap.get(stream);
    if (s) return s;
    if (stream !== 'stdout' && stream !== 'stderr') {
      throw new InvalidOptionError('stream', `must be 'stdout' or 'stderr', got ${String(stream)}`);
    }
    throw new StreamUnavailableError(
      this.id,
      stream,
      this.kind === 'pty'
        ? 'a PTY has one merged output stream, stdout'
        : 'stderr is merged into stdout',
    );
  }
}
