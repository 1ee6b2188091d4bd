/**
 * One async iterable of stdout lines over a sequence of streams (one per process of a restarted
 * child), with a queue bounded in bytes and in lines: past either bound the stream being read is
 * paused, so the child blocks on its full pipe instead of growing this process's memory.
 */
import type { Readable } from 'node:stream';
import { ByteLineSplitter, lineText } from './line-splitter.js';

const DONE: IteratorResult<string> = { done: true, value: undefined };
const noop = () => {};

/** Bounds of a `LineFeed`. */
export interface LineFeedOptions {
  /** Bytes held for the consumer: queued lines plus the unfinished line. */
  maxQueueBytes: number;
  /** Longer lines are delivered in pieces of at most this many bytes. */
  maxLineBytes: number;
  /** Lines held for the consumer (many tiny lines cost more than their bytes). Default 1024. */
  maxQueueLines?: number;
}

/**
 * The feed. Rules:
 * - A stream is paused once the queued lines reach `maxQueueLines`, or their bytes plus the
 *   unfinished line's reach `maxQueueBytes` while nobody waits for a line. It resumes once the
 *   consumer has taken the queue down to half, or asks for a line while none is queued (a line
 *   longer than `maxQueueBytes` is then still read to its end, up to `maxLineBytes`).
 * - Memory held is at most `maxQueueBytes` plus one chunk (64 KiB) plus, only while a consumer
 *   waits for a long line, `maxLineBytes`.
 * - Streams added while another is being read are held unread (a `'readable'` listener keeps
 *   Node from draining them when their child exits) and read in order.
 * - `finish()` says no stream will follow; iteration ends once the last one has.
 * - `return()` (a `break` in `for await`) drops what is queued and drains the rest unread.
 */
export class LineFeed implements AsyncIterableIterator<string> {
  #lines: string[] = [];
  #sizes: number[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Pending `next()` calls, oldest first (for-await has one; manual callers may have more). */
  #waiters: ((r: IteratorResult<string>) => void)[] = [];
  #finished = false;
  #discard = false;
  #current: { stream: Readable; split: ByteLineSplitter } | undefined;
  #paused = false;
  #chain: Promise<void> = Promise.resolve();
  readonly #maxBytes: number;
  readonly #maxLines: number;
  readonly #maxLineBytes: number;

  constructor(options: LineFeedOptions) {
    this.#maxBytes = options.maxQueueBytes;
    this.#maxLineBytes = options.maxLineBytes;
    this.#maxLines = options.maxQueueLines ?? 1024;
  }

  /** Bytes held for the consumer now: queued lines and the unfinished line. */
  get heldBytes(): number {
    return this.#queuedBytes + (this.#current?.split.pendingBytes ?? 0);
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
      if (this.#queued() === 0) this.#endWaiters();
    });
  }

  next(): Promise<IteratorResult<string>> {
    if (this.#queued() > 0) {
      const value = this.#take();
      if (this.#paused && this.#roomToResume()) this.#resume();
      return Promise.resolve({ done: false, value });
    }
    if (this.#finished || this.#discard) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      // Nothing queued and someone waits: the unfinished line must be read on to its end.
      if (this.#paused) this.#resume();
    });
  }

  return(): Promise<IteratorResult<string>> {
    this.#discard = true;
    this.#lines = [];
    this.#sizes = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#current?.split.reset();
    if (this.#paused) this.#resume();
    this.#endWaiters();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #queued(): number {
    return this.#lines.length - this.#head;
  }

  #take(): string {
    const value = this.#lines[this.#head]!;
    this.#queuedBytes -= this.#sizes[this.#head]!;
    this.#head++;
    if (this.#head === this.#lines.length) {
      this.#lines = [];
      this.#sizes = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return value;
  }

  #full(): boolean {
    if (this.#queued() >= this.#maxLines) return true;
    return this.heldBytes >= this.#maxBytes && this.#waiters.length === 0;
  }

  #roomToResume(): boolean {
    return this.#queued() <= this.#maxLines >> 1 && this.heldBytes <= this.#maxBytes >> 1;
  }

  #resume(): void {
    this.#paused = false;
    this.#current?.stream.resume();
  }

  #deliver = (line: Buffer, complete: boolean): void => {
    if (this.#discard) return;
    const text = lineText(line, complete);
    const w = this.#waiters.shift();
    if (w) {
      w({ done: false, value: text });
      return;
    }
    this.#lines.push(text);
    // Each line costs at least a little, so a flood of empty lines is bounded too.
    const size = line.length + 1;
    this.#sizes.push(size);
    this.#queuedBytes += size;
  };

  #endWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(DONE);
  }

  #pump(stream: Readable): Promise<void> {
    return new Promise((resolve) => {
      const split = new ByteLineSplitter(this.#maxLineBytes, true);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        stream.off('data', data);
        split.end(this.#deliver);
        this.#current = undefined;
        this.#paused = false;
        resolve();
      };
      const data = (chunk: Buffer) => {
        if (this.#discard) return;
        split.push(chunk, this.#deliver);
        if (this.#full()) {
          stream.pause();
          this.#paused = true;
        }
      };
      stream.off('readable', noop);
      if (stream.destroyed || stream.readableEnded) {
        end();
        return;
      }
      this.#current = { stream, split };
      stream.once('end', end);
      stream.once('close', end);
      stream.on('data', data);
      stream.resume();
    });
  }
}
