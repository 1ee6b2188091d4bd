/**
 * One client's view of one output stream: the backlog it was handed at attach time, then a
 * bounded queue of live frames.
 *
 * The queue never slows anyone: the session pushes into it without waiting, and when a client
 * falls more than `maxQueueBytes` behind, the oldest output frames are dropped. The client is
 * then handed a `missed` frame saying how many bytes it lost and where delivery resumes, and
 * `missedBytes` counts them. Control frames (`eof`, `exit`, `stolen`) are never dropped.
 *
 * Two ways to consume, use one:
 * - pull: `for await (const frame of attachment)` (or `attachment.frames`), or `read()`;
 *   breaking out of the loop detaches.
 * - push: `attachment.on('frame', f)` delivers frames as they come (like a Readable's 'data');
 *   `pause()` makes them wait in the bounded queue (dropping the oldest when it is full) and
 *   `resume()` flushes. 'end' fires once after the last frame.
 *
 * `position` is the absolute stream offset after the last output byte handed to the client (the
 * backlog counts as handed at attach). Re-attaching with `{ fromOffset: old.position }` yields
 * exactly what this attachment had not delivered: nothing lost, nothing repeated (as long as the
 * ring still keeps it; otherwise the gap is counted in `missedBytes`).
 *
 * A `lossless` attachment never drops: once `maxQueueBytes` wait it asks its stream to hold the
 * program's output (the session stops reading it) and lets go when the queue is down to half, or
 * at once when it ends.
 */

import { EventEmitter } from 'node:events';
import { InvalidOptionError } from '../../proc/index.js';
import {
  type AttachmentFrame,
  DEFAULT_ATTACH_QUEUE_BYTES,
  MAX_OUTPUT_FRAME_BYTES,
} from './attachment-types.js';
import { AttachmentClosedError, ReadOnlyAttachmentError } from './errors.js';
import { FrameQueue } from './frame-queue.js';
import type { StreamName } from './types.js';

export {
  type AttachmentFrame,
  type AttachOptions,
  DEFAULT_ATTACH_QUEUE_BYTES,
  MAX_OUTPUT_FRAME_BYTES,
} from './attachment-types.js';

/** What an attachment needs from its session; the session supplies it. */
export interface AttachmentHost {
  readonly sessionId: string;
  writeInput(data: string | Uint8Array): Promise<number>;
  closeInput(): Promise<void>;
  resize(rows: number, cols: number): void;
  release(attachment: Attachment): void;
  /**
   * Stops (`held`) or resumes reading the program's output on `stream`; called by the stream
   * when the first lossless attachment fills its queue and when the last one lets go. A host
   * without it cannot serve lossless attachments.
   */
  holdReading?(stream: StreamName, held: boolean): void;
}

interface Waiter {
  resolve(result: IteratorResult<AttachmentFrame>): void;
}

let nextAttachmentNumber = 1;

/**
 * One client's attachment to one stream (see the module comment for its guarantees). Made by
 * `Session.attach`; the client consumes it or calls `detach()`, which frees its seat and queue.
 */
export class Attachment extends EventEmitter implements AsyncIterable<AttachmentFrame> {
  /** Unique within this process; useful in logs. */
  readonly number = nextAttachmentNumber++;
  /** The full id of the session attached to. */
  readonly sessionId: string;
  /** The output stream attached to. */
  readonly stream: StreamName;
  /** Whether this is a read-only viewer: `write`, `closeStdin` and `resize` then fail with `ReadOnlyAttachmentError`. */
  readonly readOnly: boolean;
  /** The replayed history: a copy of the ring from `backlogOffset` to the attach moment. */
  readonly backlog: Buffer;
  /** Absolute offset of `backlog[0]`. */
  readonly backlogOffset: number;
  /**
   * Output bytes that may wait in this attachment's queue; past it the oldest output frames are
   * dropped (a `missed` frame follows), or, when `lossless`, the program is held.
   */
  readonly maxQueueBytes: number;
  /** Whether this client holds the program instead of losing output (see the module comment). */
  readonly lossless: boolean;
  #host: AttachmentHost;
  #onHold: ((held: boolean) => void) | undefined;
  #holding = false;
  readonly #frames: FrameQueue;
  #ended = false;
  #closed = false;
  #endEmitted = false;
  #paused = false;
  #flowing = false;
  #delivering = false;
  #waiter: Waiter | undefined;
  #stolen = false;

  /** @internal Made by the session's output stream; use `Session.attach`. */
  constructor(
    host: AttachmentHost,
    stream: StreamName,
    init: {
      readOnly: boolean;
      backlog: Buffer;
      backlogOffset: number;
      missed: number;
      maxQueueBytes?: number;
      lossless?: boolean;
      /** Told when this lossless attachment starts and stops holding the program's output. */
      onHold?: (held: boolean) => void;
    },
  ) {
    super();
    const max = init.maxQueueBytes ?? DEFAULT_ATTACH_QUEUE_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new InvalidOptionError('maxQueueBytes', `must be a positive integer, got ${max}`);
    }
    this.#host = host;
    this.sessionId = host.sessionId;
    this.stream = stream;
    this.readOnly = init.readOnly;
    this.backlog = init.backlog;
    this.backlogOffset = init.backlogOffset;
    this.maxQueueBytes = max;
    this.lossless = init.lossless === true;
    this.#onHold = init.onHold;
    this.#frames = new FrameQueue(
      max,
      this.lossless,
      init.missed,
      init.backlogOffset + init.backlog.length,
    );
    this.on('newListener', (event) => {
      if (event === 'frame') queueMicrotask(() => this.#startFlowing());
    });
  }

  /**
   * Output bytes this client never got: those the ring had dropped before the backlog it asked
   * for, plus those dropped from its queue because it fell behind. Only grows.
   */
  get missedBytes(): number {
    return this.#frames.missedBytes;
  }

  /** Absolute offset after the last output byte delivered (see the module comment). */
  get position(): number {
    return this.#frames.position;
  }

  /** Bytes of output waiting in the queue. */
  get queuedBytes(): number {
    return this.#frames.queuedBytes;
  }

  /** True once no more frames will be queued (exit, steal, detach). */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once detached by the client, or ended and fully consumed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether another attach stole the writer seat. */
  get stolen(): boolean {
    return this.#stolen;
  }

  /** This attachment as an async iterable of frames (the same object). */
  get frames(): AsyncIterable<AttachmentFrame> {
    return this;
  }

  /**
   * Writes to the session's stdin (for a PTY, its input: keys). Rejects with
   * `ReadOnlyAttachmentError` for a read-only attachment and `AttachmentClosedError` once
   * detached or stolen; otherwise as `Session.writeStdin`.
   */
  write(data: string | Uint8Array): Promise<number> {
    try {
      this.#checkWritable('write');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#host.writeInput(data);
  }

  /** Closes the session's stdin (a PTY gets the EOF character). Same rules as `write`. */
  closeStdin(): Promise<void> {
    try {
      this.#checkWritable('close stdin');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#host.closeInput();
  }

  /** Resizes the session's PTY. Throws as `write` does, and as `Session.resize`. */
  resize(rows: number, cols: number): void {
    this.#checkWritable('resize');
    this.#host.resize(rows, cols);
  }

  /**
   * Lets go: frees the writer seat (when this holds it), drops what is queued and ends the
   * iteration. The seat is free when this returns; the promise resolves at once (it is a promise
   * so that a daemon client's `detach()`, which needs a round trip, has the same shape).
   * Idempotent; never rejects.
   */
  detach(): Promise<void> {
    this.#release();
    return Promise.resolve();
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.#setHolding(false);
    this.#frames.clear();
    this.#host.release(this);
    this.#settleWaiter();
    this.#emitEnd();
  }

  /** Stops push delivery; frames wait in the bounded queue. */
  pause(): void {
    this.#paused = true;
  }

  /** Resumes push delivery, flushing what waited. */
  resume(): void {
    this.#paused = false;
    this.#deliver();
  }

  /** Takes the next frame off the queue, or undefined when none waits. */
  read(): AttachmentFrame | undefined {
    const frame = this.#take();
    if (frame === undefined) this.#maybeClose();
    return frame;
  }

  /**
   * Yields the frames in stream order (the backlog is in `backlog`, not here) and ends after the
   * last one; leaving the loop early (`break`, `return`, a throw) detaches.
   */
  [Symbol.asyncIterator](): AsyncIterator<AttachmentFrame> {
    return {
      next: () => {
        const frame = this.#take();
        if (frame !== undefined) return Promise.resolve({ value: frame, done: false });
        if (this.#ended) {
          this.#maybeClose();
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          this.#waiter = { resolve };
        });
      },
      return: () => {
        this.#release();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** `await using`: the same as `detach()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.detach();
  }

  // ---- called by the output stream -------------------------------------------------------

  /**
   * @internal Queues output at absolute `offset`, dropping the oldest if over the bound. Takes
   * ownership of `chunk`: the caller must not change it afterwards.
   */
  pushOutput(chunk: Buffer, offset: number): void {
    if (this.#ended) return;
    for (let at = 0; at < chunk.length; at += MAX_OUTPUT_FRAME_BYTES) {
      const data = chunk.subarray(at, Math.min(chunk.length, at + MAX_OUTPUT_FRAME_BYTES));
      this.#frames.pushOutput(data, offset + at);
    }
    this.#deliver();
    if (
      this.lossless &&
      !this.#holding &&
      !this.#ended &&
      this.#frames.queuedBytes >= this.maxQueueBytes
    ) {
      this.#setHolding(true);
    }
  }

  /** @internal Queues a control frame; `last` ends the attachment after it. */
  pushControl(frame: AttachmentFrame, last: boolean): void {
    if (this.#ended) return;
    if (frame.type === 'stolen') this.#stolen = true;
    this.#frames.pushControl(frame);
    if (last) {
      this.#ended = true;
      // No more output comes to this attachment: it must not hold the program any longer.
      this.#setHolding(false);
    }
    this.#deliver();
    if (last && !this.#flowing) this.#maybeClose();
  }

  #take(): AttachmentFrame | undefined {
    if (this.#closed) return undefined;
    const frame = this.#frames.take();
    // A lossless client that has caught up to half its bound lets the program go on.
    if (
      frame?.type === 'output' &&
      this.#holding &&
      this.#frames.queuedBytes <= this.maxQueueBytes / 2
    ) {
      this.#setHolding(false);
    }
    return frame;
  }

  #checkWritable(what: string): void {
    if (this.readOnly) throw new ReadOnlyAttachmentError(what);
    if (this.#stolen) {
      throw new AttachmentClosedError(
        `cannot ${what}: another client stole this attachment to session ${this.sessionId}`,
      );
    }
    if (this.#closed || this.#ended) {
      throw new AttachmentClosedError(
        `cannot ${what}: this attachment to session ${this.sessionId} has ended`,
      );
    }
  }

  #startFlowing(): void {
    if (this.listenerCount('frame') === 0) return;
    this.#flowing = true;
    this.#deliver();
  }

  #deliver(): void {
    if (this.#waiter) {
      const frame = this.#take();
      if (frame !== undefined) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w.resolve({ value: frame, done: false });
      } else if (this.#ended) {
        this.#settleWaiter();
      }
      return;
    }
    if (!this.#flowing || this.#paused || this.#delivering) return;
    this.#delivering = true;
    try {
      for (;;) {
        if (this.#paused || this.#closed) break;
        const frame = this.#take();
        if (frame === undefined) break;
        try {
          this.emit('frame', frame);
        } catch (error) {
          // A throwing listener is the client's bug: it loses this attachment, never the session.
          this.detach();
          queueMicrotask(() => {
            throw error;
          });
          break;
        }
      }
    } finally {
      this.#delivering = false;
    }
    this.#maybeClose();
  }

  #settleWaiter(): void {
    const w = this.#waiter;
    if (!w) return;
    this.#waiter = undefined;
    w.resolve({ value: undefined, done: true });
  }

  /** Once ended and everything is consumed: release the seat and emit 'end'. */
  #maybeClose(): void {
    if (!this.#ended || this.#closed) return;
    if (!this.#frames.empty) return;
    this.#closed = true;
    this.#setHolding(false);
    this.#host.release(this);
    this.#settleWaiter();
    this.#emitEnd();
  }

  #setHolding(held: boolean): void {
    if (this.#holding === held) return;
    this.#holding = held;
    this.#onHold?.(held);
  }

  #emitEnd(): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    queueMicrotask(() => this.emit('end'));
  }
}
