/**
 * A byte ring addressed by absolute offset: the backlog of one output stream.
 *
 * Every byte ever written has an absolute offset (0 for the first byte). The ring keeps the last
 * `capacity` of them; `start` is the offset of the oldest byte still kept and `end` the offset the
 * next byte will get, so `start` is also how many bytes were dropped. Reading never consumes:
 * `read(from)` copies what is kept from `from` on, and says how many of the bytes the reader asked
 * for were already dropped. That is what lets a snapshot leave the backlog alone and a re-attach
 * get exactly what it has not seen. Bytes are kept as written (no line or encoding rewriting).
 *
 * Memory grows with what was written, so an idle session costs little: 4 KiB, 16 KiB, 64 KiB, then
 * the whole `capacity` at once. A chatty stream thus reaches its capacity in one step past 64 KiB
 * instead of four doublings, each of which would leave the old buffer as garbage for the GC and
 * the allocator to hold for a while (100 sessions of `yes` peaked 25–30 MiB lower this way).
 */
import { InvalidOptionError } from '../../proc/index.js';

/** The default capacity of one stream's ring: 1 MiB. */
export const DEFAULT_RING_BYTES = 1024 * 1024;

const INITIAL_BYTES = 4096;
/** Up to this size the buffer grows fourfold; past it, straight to the capacity. */
const SMALL_BYTES = 64 * 1024;

/** What `RingBuffer.read` returns. */
export interface RingRead {
  /** A copy of the kept bytes from `offset` to `end`. */
  data: Buffer;
  /** The absolute offset of `data[0]`: `max(from, start)`. */
  offset: number;
  /** Bytes between `from` and `start` that were dropped before they could be read (0 if none). */
  missed: number;
}

/** The byte ring (see the module comment). Not thread-safe; never throws on `write`. */
export class RingBuffer {
  /**
   * The most bytes the ring keeps, fixed at construction; older bytes are dropped to stay within
   * it.
   */
  readonly capacity: number;
  #buf: Buffer;
  /** Index in `#buf` of the byte at offset `#start`. */
  #head = 0;
  #length = 0;
  #start = 0;

  /** Throws `InvalidOptionError` unless `capacity` is a positive safe integer. */
  constructor(capacity: number = DEFAULT_RING_BYTES) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) {
      throw new InvalidOptionError(
        'capacity',
        `ring capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.capacity = capacity;
    this.#buf = Buffer.allocUnsafe(Math.min(capacity, INITIAL_BYTES));
  }

  /** Offset of the oldest byte kept; equals the number of bytes dropped so far. */
  get start(): number {
    return this.#start;
  }

  /** Offset the next written byte gets; equals the number of bytes ever written. */
  get end(): number {
    return this.#start + this.#length;
  }

  /** Bytes kept now. */
  get length(): number {
    return this.#length;
  }

  /** Bytes dropped to make room (the same number as `start`). */
  get dropped(): number {
    return this.#start;
  }

  /**
   * Appends `chunk` (copied), dropping the oldest bytes when the ring is full. A chunk larger
   * than the capacity keeps only its last `capacity` bytes. Returns the offset of `chunk[0]`.
   */
  write(chunk: Uint8Array): number {
    const at = this.end;
    let data = chunk;
    if (data.length === 0) return at;
    if (data.length >= this.capacity) {
      // Only the tail survives; everything kept before is dropped too.
      data = data.subarray(data.length - this.capacity);
      this.#ensure(this.capacity);
      this.#buf.set(data, 0);
      this.#start = at + chunk.length - this.capacity;
      this.#head = 0;
      this.#length = this.capacity;
      return at;
    }
    const wanted = this.#length + data.length;
    if (wanted > this.#buf.length && this.#buf.length < this.capacity) {
      const next = this.#buf.length >= SMALL_BYTES ? this.capacity : this.#buf.length * 4;
      this.#ensure(Math.min(this.capacity, Math.max(wanted, next)));
    }
    const size = this.#buf.length;
    const overflow = this.#length + data.length - size;
    if (overflow > 0) {
      this.#head = (this.#head + overflow) % size;
      this.#length -= overflow;
      this.#start += overflow;
    }
    const tail = (this.#head + this.#length) % size;
    const first = Math.min(data.length, size - tail);
    this.#buf.set(data.subarray(0, first), tail);
    if (first < data.length) this.#buf.set(data.subarray(first), 0);
    this.#length += data.length;
    return at;
  }

  /**
   * Copies the kept bytes from absolute offset `from` (default: the oldest kept) to `end`. A
   * `from` past `end` yields no data at `end`; one before `start` yields everything kept and
   * counts the gap in `missed`. Never consumes anything.
   */
  read(from: number = this.#start): RingRead {
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new InvalidOptionError('fromOffset', `must be a non-negative integer, got ${from}`);
    }
    const end = this.end;
    const offset = Math.min(Math.max(from, this.#start), end);
    const missed = Math.max(0, this.#start - from);
    const count = end - offset;
    const data = Buffer.allocUnsafe(count);
    if (count > 0) {
      const size = this.#buf.length;
      const begin = (this.#head + (offset - this.#start)) % size;
      const first = Math.min(count, size - begin);
      this.#buf.copy(data, 0, begin, begin + first);
      if (first < count) this.#buf.copy(data, first, 0, count - first);
    }
    return { data, offset, missed };
  }

  /** Grows the backing buffer to `size`, keeping the bytes in order from index 0. */
  #ensure(size: number): void {
    if (this.#buf.length >= size) return;
    const next = Buffer.allocUnsafe(size);
    const kept = this.read(this.#start).data;
    kept.copy(next, 0);
    this.#buf = next;
    this.#head = 0;
  }
}
