/**
 * `ScreenModel`: the screen of a PTY session, kept by a headless terminal emulator
 * (`@xterm/headless`, the xterm.js parser and buffers without a DOM) fed with every byte the
 * program writes. It keeps both buffers (normal and alternate), the cursor, colours and
 * attributes, the scroll region, the modes, and a bounded scrollback of the normal buffer, so that
 * a client attaching at any time can be given a snapshot that draws the program's screen exactly
 * as it is, instead of a replay of raw bytes (which re-sends queries, stale scroll regions, and
 * loses the modes once the ring wraps).
 *
 * Offsets: every byte written advances `offset`. xterm.js parses asynchronously, in slices of
 * about 12 ms; a snapshot is taken when the parser has reached the last byte written before the
 * call, and it says at which offset that is. Bytes after that offset are live output: a client
 * gets the snapshot, then the stream from `snapshot.offset`, and no byte is lost or repeated.
 *
 * Flow control: the parser is slower than a `yes` flood. `write` returns false once more than
 * `highWaterMarkBytes` wait to be parsed, and the model emits `'drain'` when the backlog fell to a
 * quarter of that; the owner pauses its reader in between (the program then blocks on its
 * terminal, as it would under tmux) so memory stays bounded.
 */
import { EventEmitter } from 'node:events';
import { InvalidOptionError } from '../../proc/index.js';
import { SessionsError } from '../core/errors.js';
import {
  drawPrefix,
  makeSnapshot,
  reflowSnapshot,
  type ScreenSnapshot,
  serializeBody,
} from './drawing.js';
import { ScrollbackCache } from './scrollback-cache.js';
import { readTerminalState, stateSequence, type TerminalState } from './terminal-state.js';
import { renderText } from './text.js';
import { type HeadlessTerminal, makeTerminal, type SerializeAddon, xterm } from './xterm.js';

export type { ScreenSnapshot } from './drawing.js';

/** Default scrollback line budget of the normal buffer. */
export const DEFAULT_SCROLLBACK_LINES = 10_000;
/** Default byte budget of the scrollback (10,000 lines of 200 columns fit). */
export const DEFAULT_MAX_SCROLLBACK_BYTES = 32 * 1024 * 1024;
/** Default bound of written-but-unparsed bytes before `write` asks the owner to pause. */
export const DEFAULT_SCREEN_HIGH_WATER_BYTES = 256 * 1024;
/** What one line of xterm.js's buffer costs: 12 bytes a cell, plus the line object. */
const BYTES_PER_CELL = 12;
const BYTES_PER_LINE = 96;
/**
 * How long after the parser last went idle the scrollback rows added since are serialized and
 * kept, ready for the next attach (at most once per this period, whatever the output rate).
 */
const FILL_DELAY_MS = 500;
/** Serialized rows kept, as a share of `maxScrollbackBytes` (about 8% for plain text rows). */
const KEPT_BYTES_SHARE = 4;

/** Options of `new ScreenModel`. */
export interface ScreenOptions {
  /** Screen height in rows, 1..65535. */
  rows: number;
  /** Screen width in columns, 1..65535. */
  cols: number;
  /**
   * How many lines of the normal buffer's scrollback to keep (the alternate buffer has none).
   * @default 10000
   */
  scrollbackLines?: number;
  /**
   * Upper bound of the scrollback's memory: the line budget shrinks to fit it at the current
   * width (a line costs about 12 bytes a column).
   * @default 33554432 (32 MiB)
   */
  maxScrollbackBytes?: number;
  /**
   * Written-but-unparsed bytes above which `write` returns false (see the module comment).
   * @default 262144 (256 KiB)
   */
  highWaterMarkBytes?: number;
}

/** Options of `ScreenModel.snapshot`. */
export interface SnapshotOptions {
  /**
   * Draw for a terminal of this size instead of the session's: a copy of the screen is reflowed
   * to it (lines rewrap, the bottom rows are kept), the policy for viewers of another size.
   * @default the model's size
   */
  rows?: number;
  /** @default the model's size */
  cols?: number;
  /**
   * Lines of scrollback to include, from the most recent.
   * @default all the model keeps
   */
  scrollback?: number;
}

/** Events of a `ScreenModel`. */
export interface ScreenEvents {
  /** The parser caught up after `write` returned false: the owner may read again. */
  drain: [];
}

/** The screen model was disposed while a snapshot or text waited for the parser. */
export class ScreenClosedError extends SessionsError {
  constructor() {
    super('ERR_SLUICE_SESSIONS_SCREEN_CLOSED', 'the screen model was disposed');
  }
}

function checkDimension(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new InvalidOptionError(name, `must be an integer in 1..65535, got ${String(v)}`);
  }
  return v;
}

function checkCount(name: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidOptionError(name, `must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

/**
 * A PTY session's screen (see the module comment). The owner feeds it every output chunk in
 * order with `write`, tells it of every resize, and disposes it with the session. All reads
 * (`snapshot`, `text`, `state`) wait for the parser to reach the bytes written before the call;
 * they reject with `ScreenClosedError` if the model is disposed first.
 *
 * @example
 * ```ts
 * const screen = new ScreenModel({ rows: 24, cols: 80 });
 * screen.write(Buffer.from('\x1b[?1049h\x1b[2;5Hhello'));
 * const snap = await screen.snapshot();
 * terminal.write(snap.data); // then live output from snap.offset
 * screen.dispose();
 * ```
 */
export class ScreenModel extends EventEmitter<ScreenEvents> {
  readonly #term: HeadlessTerminal;
  readonly #serializer: SerializeAddon;
  readonly #scrollbackLines: number;
  readonly #maxScrollbackBytes: number;
  readonly #highWater: number;
  #rows: number;
  #cols: number;
  #written = 0;
  #pending = 0;
  /** Writes (output, resizes, reads) handed to xterm.js whose callback has not run yet. */
  #queued = 0;
  #needDrain = false;
  #disposed = false;
  #waiters = new Set<(e: Error) => void>();
  readonly #cache: ScrollbackCache;
  #fillTimer: NodeJS.Timeout | undefined;

  /** Throws `InvalidOptionError` for a bad size or budget; holds no OS resource. */
  constructor(options: ScreenOptions) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'must be an object with rows and cols');
    }
    this.#rows = checkDimension('rows', options.rows);
    this.#cols = checkDimension('cols', options.cols);
    this.#scrollbackLines = checkCount(
      'scrollbackLines',
      options.scrollbackLines,
      DEFAULT_SCROLLBACK_LINES,
      0,
    );
    this.#maxScrollbackBytes = checkCount(
      'maxScrollbackBytes',
      options.maxScrollbackBytes,
      DEFAULT_MAX_SCROLLBACK_BYTES,
      0,
    );
    this.#highWater = checkCount(
      'highWaterMarkBytes',
      options.highWaterMarkBytes,
      DEFAULT_SCREEN_HIGH_WATER_BYTES,
      1,
    );
    this.#term = makeTerminal(this.#rows, this.#cols, this.#lineBudget(this.#cols));
    this.#serializer = new (xterm().SerializeAddon)();
    this.#cache = new ScrollbackCache(
      this.#term,
      Math.floor(this.#maxScrollbackBytes / KEPT_BYTES_SHARE),
    );
    this.#term.loadAddon(
      this.#serializer as unknown as Parameters<HeadlessTerminal['loadAddon']>[0],
    );
  }

  /** Bytes written so far: the output offset the model will reflect once parsed. */
  get offset(): number {
    return this.#written;
  }

  /** Bytes written and not parsed yet. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** The size the model has (or will have, once the bytes before the last resize are parsed). */
  get size(): {
    /** Height in character cells. */
    rows: number;
    /** Width in character cells. */
    cols: number;
  } {
    return { rows: this.#rows, cols: this.#cols };
  }

  /**
   * Bytes of scrollback rows kept serialized, ready for the next snapshot: rows are serialized
   * once, half a second after the output last paused (or by a snapshot), and kept while they stay
   * in the scrollback, up to a quarter of `maxScrollbackBytes`.
   */
  get keptScrollbackBytes(): number {
    return this.#cache.bytes;
  }

  /** The scrollback line budget at the current width (the byte budget may lower it). */
  get scrollbackLimit(): number {
    return this.#lineBudget(this.#cols);
  }

  /**
   * Feeds output bytes, in stream order. Returns false once more than `highWaterMarkBytes` wait
   * to be parsed (pause the source until `'drain'`); the bytes are kept either way. The model
   * holds `chunk` until parsed: do not modify it. Ignored after `dispose`.
   */
  write(chunk: Uint8Array): boolean {
    if (this.#disposed || chunk.length === 0) return true;
    const n = chunk.length;
    this.#written += n;
    this.#pending += n;
    this.#queued++;
    this.#term.write(chunk, () => {
      this.#queued--;
      if (this.#queued === 0) this.#scheduleFill();
      this.#pending -= n;
      if (this.#needDrain && this.#pending <= this.#highWater / 4) {
        this.#needDrain = false;
        this.emit('drain');
      }
    });
    if (this.#pending > this.#highWater) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Resizes the screen after the bytes written so far (they were drawn at the old size): lines of
   * the normal buffer rewrap as in xterm.js, the scrollback budget follows the width. Throws
   * `InvalidOptionError` unless both are integers in 1..65535.
   */
  resize(rows: number, cols: number): void {
    checkDimension('rows', rows);
    checkDimension('cols', cols);
    // The same size changes nothing (every writer's attach asks for its size).
    if (this.#disposed || (rows === this.#rows && cols === this.#cols)) return;
    this.#rows = rows;
    this.#cols = cols;
    const budget = this.#lineBudget(cols);
    this.#queued++;
    this.#term.write('', () => {
      this.#queued--;
      if (this.#disposed) return;
      if (this.#queued === 0) this.#scheduleFill();
      this.#term.resize(cols, rows);
      this.#cache.invalidate(); // the normal buffer was rewrapped
      if (this.#term.options.scrollback !== budget) this.#term.options.scrollback = budget;
    });
  }

  /**
   * A snapshot of the screen once the parser has reached every byte written before this call
   * (see `ScreenSnapshot`); `offset` says where live output continues. Never consumes anything.
   * Rejects with `ScreenClosedError` if disposed first, `InvalidOptionError` for a bad size.
   */
  snapshot(options: SnapshotOptions = {}): Promise<ScreenSnapshot> {
    let rows: number | undefined;
    let cols: number | undefined;
    let scrollback: number | undefined;
    try {
      if (options.rows !== undefined) rows = checkDimension('rows', options.rows);
      if (options.cols !== undefined) cols = checkDimension('cols', options.cols);
      if (options.scrollback !== undefined) {
        scrollback = checkCount('scrollback', options.scrollback, 0, 0);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#whenParsed((offset) => this.#serialize(offset, scrollback)).then((snap) =>
      (rows !== undefined && rows !== snap.rows) || (cols !== undefined && cols !== snap.cols)
        ? reflowSnapshot(snap, rows ?? snap.rows, cols ?? snap.cols, this.#scrollbackLines)
        : snap,
    );
  }

  /**
   * The screen as plain text, without escape sequences: the normal buffer's scrollback and
   * screen (wrapped lines joined, trailing blanks trimmed) and, while a full-screen program shows
   * the alternate screen, that screen after it. What `sluice logs` prints for a PTY session.
   */
  text(): Promise<{
    /** The screen and scrollback as text, lines joined with `\n`. */
    text: string;
    /** The output offset the text reflects: every byte before it was parsed. */
    offset: number;
  }> {
    return this.#whenParsed((offset) => ({ text: renderText(this.#term), offset }));
  }

  /** The modes and cursor state once every byte written before the call is parsed. */
  state(): Promise<TerminalState> {
    return this.#whenParsed(() => readTerminalState(this.#term));
  }

  /** Frees the emulator; pending reads reject with `ScreenClosedError`. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const error = new ScreenClosedError();
    for (const reject of this.#waiters) reject(error);
    this.#waiters.clear();
    if (this.#fillTimer) clearTimeout(this.#fillTimer);
    this.#cache.dispose();
    this.#term.dispose();
  }

  /** The same as `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Serializes the scrollback rows added since the last fill or snapshot a little after the
   * parser went idle, so that an attach finds them ready (a first attach then costs what a
   * re-attach does). The work is the rows still in the scrollback, each once.
   */
  #scheduleFill(): void {
    if (this.#fillTimer || this.#disposed) return;
    this.#fillTimer = setTimeout(() => {
      this.#fillTimer = undefined;
      // Still parsing: the callback that empties the queue schedules the next fill.
      if (this.#disposed || this.#queued > 0) return;
      this.#cache.fill(this.#term.buffer.normal.baseY);
    }, FILL_DELAY_MS);
    this.#fillTimer.unref();
  }

  #lineBudget(cols: number): number {
    const perLine = cols * BYTES_PER_CELL + BYTES_PER_LINE;
    return Math.min(this.#scrollbackLines, Math.floor(this.#maxScrollbackBytes / perLine));
  }

  /**
   * Runs `read` inside the parser's callback for an empty write queued now: every byte written
   * before is parsed and none after has started, so the state matches `offset` exactly. Always
   * through the queue, even when the model looks idle (a timer turn): a read at once was in the
   * code when a re-attach at a new size once drew the old size's screen, and is not worth the risk.
   */
  #whenParsed<T>(read: (offset: number) => T): Promise<T> {
    if (this.#disposed) return Promise.reject(new ScreenClosedError());
    const offset = this.#written;
    return new Promise<T>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      this.#waiters.add(fail);
      this.#queued++;
      this.#term.write('', () => {
        this.#queued--;
        this.#waiters.delete(fail);
        if (this.#disposed) return reject(new ScreenClosedError());
        try {
          resolve(read(offset));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  #serialize(offset: number, scrollback: number | undefined): ScreenSnapshot {
    const term = this.#term;
    const state = readTerminalState(term);
    const base = term.buffer.normal.baseY;
    const lines = scrollback === undefined ? base : Math.min(scrollback, base);
    const body = serializeBody(term, this.#serializer, lines, this.#cache);
    body.push(Buffer.from(stateSequence(state, term.rows)));
    return makeSnapshot(Buffer.from(drawPrefix(term.rows)), body, {
      offset,
      rows: term.rows,
      cols: term.cols,
      scrollbackLines: lines,
      state,
    });
  }
}
