/**
 * An attachment's bounded queue of frames and its byte accounting: what is queued, what was
 * dropped (`missed`), and the stream position delivery has reached. The attachment decides when
 * frames are delivered and when a lossless client holds the program; this only keeps the books.
 * Internal to sessions.
 */
import { type AttachmentFrame, MAX_OUTPUT_FRAME_BYTES } from './attachment-types.js';

export class FrameQueue {
  readonly #maxBytes: number;
  /** Never drops: a lossless queue passes its bound instead (its attachment holds the program). */
  readonly #lossless: boolean;
  #queue: AttachmentFrame[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Dropped bytes not yet reported to the client in a `missed` frame. */
  #pendingMissed = 0;
  #missedBytes: number;
  #position: number;

  constructor(maxBytes: number, lossless: boolean, missed: number, position: number) {
    this.#maxBytes = maxBytes;
    this.#lossless = lossless;
    this.#missedBytes = missed;
    this.#position = position;
  }

  /** Output bytes the client never got; only grows. */
  get missedBytes(): number {
    return this.#missedBytes;
  }

  /** Absolute offset after the last output byte taken. */
  get position(): number {
    return this.#position;
  }

  /** Bytes of output waiting. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Nothing waits: no frame and no unreported gap. */
  get empty(): boolean {
    return this.#pendingMissed === 0 && this.#head >= this.#queue.length;
  }

  /** Queues output at absolute `offset`, dropping the oldest output when over the bound. */
  pushOutput(data: Buffer, offset: number): void {
    if (this.#lossless) {
      // Never dropped: the queue passes its bound by at most what was already read when the
      // hold began (the stream stops reading at once; see Attachment.pushOutput).
      this.#append(data, offset);
      return;
    }
    let d = data;
    let at = offset;
    if (d.length > this.#maxBytes) {
      // Even alone this frame does not fit: keep its tail.
      const cut = d.length - this.#maxBytes;
      this.#recordMissed(cut);
      d = d.subarray(cut);
      at += cut;
    }
    while (this.#queuedBytes + d.length > this.#maxBytes) {
      if (!this.#dropOldestOutput()) break;
    }
    this.#append(d, at);
  }

  /**
   * No copy: the output stream hands over chunks that are never reused. A chunk that continues
   * the last queued output frame both in the stream and in memory (copies the stream laid end to
   * end) grows that frame instead, up to `MAX_OUTPUT_FRAME_BYTES`: many small reads become few
   * frames, and the bytes are the same either way.
   */
  #append(data: Buffer, offset: number): void {
    this.#queuedBytes += data.length;
    const last = this.#queue.length > this.#head ? this.#queue[this.#queue.length - 1] : undefined;
    if (last?.type === 'output') {
      const prev = last.data;
      if (
        last.offset + prev.length === offset &&
        prev.buffer === data.buffer &&
        prev.byteOffset + prev.length === data.byteOffset &&
        prev.length + data.length <= MAX_OUTPUT_FRAME_BYTES
      ) {
        last.data = Buffer.from(prev.buffer, prev.byteOffset, prev.length + data.length);
        return;
      }
    }
    this.#queue.push({ type: 'output', data, offset });
  }

  /** Queues a control frame; control frames are never dropped. */
  pushControl(frame: AttachmentFrame): void {
    this.#queue.push(frame);
  }

  /** The next frame (a `missed` frame first when bytes were dropped), or undefined. */
  take(): AttachmentFrame | undefined {
    if (this.#pendingMissed > 0) {
      const next = this.#nextOutputOffset();
      const frame: AttachmentFrame = { type: 'missed', bytes: this.#pendingMissed, offset: next };
      this.#pendingMissed = 0;
      this.#position = next;
      return frame;
    }
    if (this.#head >= this.#queue.length) return undefined;
    const frame = this.#queue[this.#head]!;
    this.#queue[this.#head] = undefined as unknown as AttachmentFrame;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (frame.type === 'output') {
      this.#queuedBytes -= frame.data.length;
      this.#position = frame.offset + frame.data.length;
    }
    return frame;
  }

  /** Drops everything waiting (the client let go); counters other than the queue's stay. */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#pendingMissed = 0;
  }

  /** Drops the oldest queued output frame; false when there is none. */
  #dropOldestOutput(): boolean {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const f = this.#queue[i]!;
      if (f.type !== 'output') continue;
      this.#queue.splice(i, 1);
      this.#queuedBytes -= f.data.length;
      this.#recordMissed(f.data.length);
      return true;
    }
    return false;
  }

  #recordMissed(bytes: number): void {
    this.#pendingMissed += bytes;
    this.#missedBytes += bytes;
  }

  /** Where delivery resumes after a gap: the first queued output, or past everything dropped. */
  #nextOutputOffset(): number {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const f = this.#queue[i]!;
      if (f.type === 'output') return f.offset;
      if (f.type === 'eof') return f.offset;
    }
    return this.#position + this.#pendingMissed;
  }
}
