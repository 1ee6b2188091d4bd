/**
 * One output stream of a session: its ring backlog, its single writer seat and its read-only
 * viewers. The session pushes every chunk it reads here, whether or not anyone is attached, so
 * output accumulates while nobody watches and is replayed on attach.
 *
 * Pushing never waits for a client: each attachment has its own bounded queue (see
 * `Attachment`), so a slow client can only lose its own frames. The one exception is asked for:
 * while a `lossless` attachment's queue is full the stream is *held* and the session stops
 * reading the program until every lossless attachment has room again.
 */
import { type ExitInfo, InvalidOptionError } from '../../proc/index.js';
import {
  Attachment,
  type AttachmentFrame,
  type AttachmentHost,
  type AttachOptions,
} from './attachment.js';
import { AlreadyAttachedError } from './errors.js';
import { RingBuffer } from './ring-buffer.js';
import type { StreamName } from './types.js';

/**
 * The memory reads of an attached stream land in (and `OutputStream.keep` lays copies into):
 * reads sit end to end and travel on as few pieces. Under 128 KiB, glibc's default threshold
 * for serving an allocation with its own mmap: larger slabs came fresh from the kernel (page
 * faults on every 4 KiB of output; 40% more of them per MiB in a chatty attach) instead of
 * reusing the heap.
 */
const SLAB_BYTES = 120 * 1024;
/** Less room than this left in the slab, and a read gets a fresh one. */
const MIN_READ_SPACE = 32 * 1024;

/** What `Session.snapshot` returns. */
export interface Snapshot {
  /** A copy of what the ring keeps (or from `fromOffset` on). */
  data: Buffer;
  /** Bytes the ring dropped before `data` (from the stream's start, or from `fromOffset`). */
  missedBytes: number;
  /** Absolute offset of `data[0]`. */
  offset: number;
  /** Absolute offset after `data`: how many bytes the stream produced so far. */
  end: number;
  /** Whether the stream has ended (EOF). */
  eof: boolean;
}

/**
 * A stream's ring, writer seat and viewers. Internal to sessions: `Session` owns one per stream
 * and is the only caller of `push`, `end` and `finish`.
 */
export class OutputStream {
  readonly name: StreamName;
  readonly ring: RingBuffer;
  #host: AttachmentHost;
  #writer: Attachment | undefined;
  #viewers = new Set<Attachment>();
  #eof = false;
  #exit: AttachmentFrame | undefined;
  /** Lossless attachments whose queue is full: while any is, the program's output is held. */
  #holders = new Set<Attachment>();
  /** Where reads land and `keep` copies chunks while attached (dropped when the last goes). */
  #slab: Buffer | undefined;
  #slabUsed = 0;

  constructor(host: AttachmentHost, name: StreamName, ringBytes?: number) {
    this.#host = host;
    this.name = name;
    this.ring = new RingBuffer(ringBytes);
  }

  /** Whether any attachment (the writer or a viewer) receives this stream's output. */
  get attached(): boolean {
    return this.#writer !== undefined || this.#viewers.size > 0;
  }

  /**
   * A copy of `chunk` that stays valid (for a chunk read into a reused buffer). Successive
   * copies are laid end to end in one slab, so output that arrives in many small reads is one
   * run of memory that attachments and socket writes join back into few large pieces.
   */
  keep(chunk: Uint8Array): Buffer {
    let slab = this.#slab;
    if (slab === undefined || slab.length - this.#slabUsed < chunk.length) {
      slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, chunk.length));
      this.#slab = slab;
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    slab.set(chunk, at);
    this.#slabUsed = at + chunk.length;
    return slab.subarray(at, at + chunk.length);
  }

  /**
   * Room for the next read of the program's output, when its chunks will be handed on: the free
   * end of the slab `keep` fills (a fresh slab when less than one pipe's worth is left). The
   * read then needs no copy besides the ring's; `claim` says how much of the room it filled.
   */
  readSpace(): Buffer {
    let slab = this.#slab;
    if (slab === undefined || slab.length - this.#slabUsed < MIN_READ_SPACE) {
      slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#slab = slab;
      this.#slabUsed = 0;
    }
    return slab.subarray(this.#slabUsed);
  }

  /**
   * A read filled the first `bytes` of `space` (from `readSpace`): they belong to their chunk
   * now and the next room starts after them. Room from a slab since dropped changes nothing.
   */
  claim(space: Uint8Array, bytes: number): void {
    const slab = this.#slab;
    if (
      slab !== undefined &&
      space.buffer === slab.buffer &&
      space.byteOffset === slab.byteOffset + this.#slabUsed
    ) {
      this.#slabUsed += bytes;
    }
  }

  /** Whether a writer holds the seat. */
  get hasWriter(): boolean {
    return this.#writer !== undefined;
  }

  /** How many read-only viewers are attached. */
  get viewerCount(): number {
    return this.#viewers.size;
  }

  get eof(): boolean {
    return this.#eof;
  }

  /** Whether a lossless attachment holds the program's output (the session must not read it). */
  get held(): boolean {
    return this.#holders.size > 0;
  }

  #setHold(attachment: Attachment, held: boolean): void {
    const before = this.#holders.size > 0;
    if (held) this.#holders.add(attachment);
    else this.#holders.delete(attachment);
    const after = this.#holders.size > 0;
    if (before !== after) this.#host.holdReading?.(this.name, after);
  }

  /** Appends a chunk to the ring and hands it to every attachment. Returns its offset. */
  push(chunk: Buffer): number {
    const offset = this.ring.write(chunk);
    if (this.#writer) this.#writer.pushOutput(chunk, offset);
    for (const v of this.#viewers) v.pushOutput(chunk, offset);
    return offset;
  }

  /** Marks the end of the stream; attachments get an `eof` frame. Idempotent. */
  end(): void {
    if (this.#eof) return;
    this.#eof = true;
    const frame = { type: 'eof', offset: this.ring.end } as const;
    for (const a of this.#all()) a.pushControl(frame, false);
  }

  /** The session exited: attachments get `exit` as their last frame. */
  finish(exitInfo: ExitInfo, exitedAt: number): void {
    const frame: AttachmentFrame = {
      type: 'exit',
      exitInfo,
      exitedAt,
      exitState: { ...exitInfo, exitedAt },
    };
    this.#exit = frame;
    for (const a of this.#all()) a.pushControl(frame, true);
  }

  /** A non-consuming copy of the backlog. */
  snapshot(fromOffset?: number): Snapshot {
    const r = this.ring.read(fromOffset);
    return {
      data: r.data,
      missedBytes: fromOffset === undefined ? this.ring.dropped : r.missed,
      offset: r.offset,
      end: this.ring.end,
      eof: this.#eof,
    };
  }

  /**
   * A new attachment. A writer (not `readOnly`) needs the free seat, or `steal` to evict the
   * holder, who gets a `stolen` frame; otherwise `AlreadyAttachedError`. After the exit the seat
   * no longer matters (nothing can be written), so any attach succeeds and gets the backlog and
   * then `eof`/`exit` at once.
   */
  attach(options: AttachOptions = {}): Attachment {
    const readOnly = options.readOnly === true;
    if (options.fromOffset !== undefined) {
      if (!Number.isSafeInteger(options.fromOffset) || options.fromOffset < 0) {
        throw new InvalidOptionError(
          'fromOffset',
          `must be a non-negative integer, got ${options.fromOffset}`,
        );
      }
    }
    const lossless = options.lossless === true;
    if (lossless && !this.#host.holdReading) {
      throw new InvalidOptionError('lossless', 'this session cannot hold its output');
    }
    const seatMatters = !readOnly && this.#exit === undefined;
    if (seatMatters && this.#writer && options.steal !== true) {
      throw new AlreadyAttachedError(this.#host.sessionId, this.name);
    }
    const r = this.ring.read(options.fromOffset);
    const attachment: Attachment = new Attachment(this.#host, this.name, {
      readOnly,
      lossless,
      onHold: (held) => this.#setHold(attachment, held),
      backlog: r.data,
      backlogOffset: r.offset,
      missed: options.fromOffset === undefined ? this.ring.dropped : r.missed,
      ...(options.maxQueueBytes === undefined ? {} : { maxQueueBytes: options.maxQueueBytes }),
    });
    if (seatMatters) {
      const old = this.#writer;
      this.#writer = attachment;
      old?.pushControl({ type: 'stolen' }, true);
    } else {
      this.#viewers.add(attachment);
    }
    if (this.#eof) attachment.pushControl({ type: 'eof', offset: this.ring.end }, false);
    if (this.#exit) attachment.pushControl(this.#exit, true);
    return attachment;
  }

  /** Forgets an attachment that detached or ended; frees the seat when it held it. */
  release(attachment: Attachment): void {
    if (this.#writer === attachment) this.#writer = undefined;
    this.#viewers.delete(attachment);
    this.#setHold(attachment, false);
    // Nobody left to hand copies to: what the slab holds is only what queues still reference.
    if (!this.attached) this.#slab = undefined;
  }

  /** Detaches every attachment (the session is being removed). */
  detachAll(): void {
    for (const a of this.#all()) void a.detach();
  }

  #all(): Attachment[] {
    return this.#writer ? [this.#writer, ...this.#viewers] : [...this.#viewers];
  }
}
