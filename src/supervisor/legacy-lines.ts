/**
 * The line framing of sluice 0.1, kept exported for one minor version: the supervisor itself now
 * frames by bytes (line-splitter.ts, line-feed.ts, stderr-lines.ts), with its queue bounded in
 * bytes. Nothing in sluice uses these any more.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * @deprecated Internal framing, leaving the public surface in 0.3.0.
 *
 * Splits UTF-8 chunks into lines. A line ends at `\n`; a `\r` right before it is dropped, so
 * CRLF output reads the same. Multi-byte characters split across chunks are kept whole. A line
 * longer than `maxLength` characters is cut into pieces of that length, so a child that never
 * writes a newline cannot grow memory without bound.
 */
export class LineSplitter {
  #decoder = new StringDecoder('utf8');
  #pieces: string[] = [];
  #pending = 0;
  readonly #max: number;

  constructor(maxLength = Number.POSITIVE_INFINITY) {
    this.#max = maxLength;
  }

  /** Feeds one chunk; calls `emit` for every line it completes. */
  push(chunk: Buffer | string, emit: (line: string) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    if (text.length === 0) return;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      let head = text.slice(start, nl);
      if (this.#pieces.length > 0) {
        this.#pieces.push(head);
        head = this.#pieces.join('');
        this.#pieces = [];
        this.#pending = 0;
      }
      this.#emit(head.endsWith('\r') ? head.slice(0, -1) : head, emit);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      this.#pieces.push(rest);
      this.#pending += rest.length;
      if (this.#pending > this.#max) this.#cut(emit);
    }
  }

  /** Flushes the unterminated last line, if any. */
  end(emit: (line: string) => void): void {
    const tail = this.#decoder.end();
    if (tail) this.#pieces.push(tail);
    if (this.#pieces.length === 0) return;
    const line = this.#pieces.join('');
    this.#pieces = [];
    this.#pending = 0;
    if (line.length > 0) this.#emit(line, emit);
  }

  /** Emits `line`, in pieces of at most `maxLength` characters. */
  #emit(line: string, emit: (line: string) => void): void {
    if (line.length <= this.#max) {
      emit(line);
      return;
    }
    for (let at = 0; at < line.length; at += this.#max) emit(line.slice(at, at + this.#max));
  }

  #cut(emit: (line: string) => void): void {
    let all = this.#pieces.join('');
    while (all.length > this.#max) {
      emit(all.slice(0, this.#max));
      all = all.slice(this.#max);
    }
    this.#pieces = all.length > 0 ? [all] : [];
    this.#pending = all.length;
  }
}

/**
 * @deprecated Internal framing, leaving the public surface in 0.3.0.
 *
 * Reads `stream` line by line into `onLine` until it ends or closes, then calls `onEnd` once.
 * Used for stderr, which is always drained so the child never blocks on it.
 */
export function readLines(
  stream: Readable,
  onLine: (line: string) => void,
  maxLength: number,
  onEnd?: () => void,
): void {
  const split = new LineSplitter(maxLength);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    stream.off('data', data);
    split.end(onLine);
    onEnd?.();
  };
  const data = (chunk: Buffer) => split.push(chunk, onLine);
  stream.on('data', data);
  stream.once('end', end);
  stream.once('close', end);
}

const DONE: IteratorResult<string> = { done: true, value: undefined };
const noop = () => {};

/**
 * @deprecated Internal framing, leaving the public surface in 0.3.0.
 *
 * One async iterable of lines over several streams read one after the other. Once
 * `highWaterMark` lines wait for the consumer the stream being read is paused (the child then
 * blocks writing, which is the backpressure); the chunk that crossed the mark is split whole, so
 * the queue holds at most `highWaterMark` lines plus one chunk's worth. Streams added while another is being
 * read are held (a `'readable'` listener keeps Node from draining them when their child exits)
 * and read in order. `finish()` says no stream will follow; iteration ends once the last one has.
 * `return()` (a `break` in `for await`) drops what is queued and drains the rest unread.
 */
export class LineFeed implements AsyncIterableIterator<string> {
  #queue: string[] = [];
  #head = 0;
  /** Pending `next()` calls, oldest first (for-await has one; manual callers may have more). */
  #waiters: ((r: IteratorResult<string>) => void)[] = [];
  #finished = false;
  #discard = false;
  #paused: Readable | undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #hwm: number;
  readonly #maxLength: number;

  constructor(options: { highWaterMark?: number; maxLength?: number } = {}) {
    this.#hwm = options.highWaterMark ?? 1024;
    this.#maxLength = options.maxLength ?? Number.POSITIVE_INFINITY;
  }

  /** Queues `stream`; its lines follow those of every stream added before it. */
  add(stream: Readable): void {
    stream.on('readable', noop);
    this.#chain = this.#chain.then(() => this.#pump(stream));
  }

  /** No more streams will be added: iteration ends after the ones already added. */
  finish(): void {
    void this.#chain.then(() => {
      this.#finished = true;
      if (this.#head >= this.#queue.length) this.#endWaiters();
    });
  }

  /** The next line (without its newline); done once every stream has ended after `finish()`, or after `return()`. */
  next(): Promise<IteratorResult<string>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++]!;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      if (this.#paused && this.#queue.length - this.#head <= this.#hwm >> 1) {
        this.#paused.resume();
        this.#paused = undefined;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#finished || this.#discard) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Stops iterating: drops what is queued, drains the remaining streams unread, and ends pending `next()` calls. */
  return(): Promise<IteratorResult<string>> {
    this.#discard = true;
    this.#queue = [];
    this.#head = 0;
    this.#paused?.resume();
    this.#paused = undefined;
    this.#endWaiters();
    return Promise.resolve(DONE);
  }

  /** This feed itself: it is its own iterator, so it can be iterated once. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  #deliver = (line: string): void => {
    if (this.#discard) return;
    const w = this.#waiters.shift();
    if (w) w({ done: false, value: line });
    else this.#queue.push(line);
  };

  #endWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(DONE);
  }

  #pump(stream: Readable): Promise<void> {
    return new Promise((resolve) => {
      const split = new LineSplitter(this.#maxLength);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        stream.off('data', data);
        split.end(this.#deliver);
        if (this.#paused === stream) this.#paused = undefined;
        resolve();
      };
      const data = (chunk: Buffer) => {
        split.push(chunk, this.#deliver);
        if (!this.#discard && this.#queue.length - this.#head >= this.#hwm) {
          stream.pause();
          this.#paused = stream;
        }
      };
      if (stream.destroyed || stream.readableEnded) {
        stream.off('readable', noop);
        end();
        return;
      }
      stream.once('end', end);
      stream.once('close', end);
      stream.off('readable', noop);
      stream.on('data', data);
      stream.resume();
    });
  }
}
