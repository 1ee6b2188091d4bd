/**
 * The daemon's wire framing: each frame is a uint32 big-endian body length followed by that many
 * bytes of one MessagePack value. A body is at most `MAX_FRAME_BYTES` (4 MiB).
 *
 * `encodeFrame` builds one frame; `FrameDecoder` turns a byte stream cut anywhere into whole
 * values, holding at most one partial frame. Both throw `FrameError` with one clear message, and
 * the decoder refuses an oversized length as soon as it has read the 4 length bytes, before any
 * body is buffered, so a peer cannot make it allocate more than `MAX_FRAME_BYTES` plus one chunk.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { BINARY_HEAD_PEEK, type BinaryHead, readBinaryHead } from './binary-head.js';

/** The largest frame body either side accepts: 4 MiB. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** Bytes in the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Why a frame was refused. */
export type FrameErrorCode = 'oversized' | 'malformed' | 'truncated';

/** A frame that cannot be encoded or decoded; the connection it came from should be closed. */
export class FrameError extends Error {
  readonly code: FrameErrorCode;
  /**
   * From `FrameDecoder.push`: the values of the good frames that came before the bad one in the
   * same chunk, in order. The caller should act on them before dropping the connection.
   */
  values: unknown[] = [];
  constructor(code: FrameErrorCode, message: string) {
    super(message);
    this.name = 'FrameError';
    this.code = code;
  }
}

// One encoder for the process: `encode` is synchronous, so sharing it is safe. `ignoreUndefined`
// drops undefined fields instead of sending nil, so optional fields stay absent on the wire.
const encoder = new Encoder({ ignoreUndefined: true });

/**
 * Encodes `value` as one frame (header and body in one Buffer). Throws `FrameError('oversized')`
 * when the body would exceed `MAX_FRAME_BYTES`, and `FrameError('malformed')` for a value
 * MessagePack cannot carry (a function, a symbol, a bigint beyond 64 bits).
 */
export function encodeFrame(value: unknown): Buffer {
  let body: Uint8Array;
  try {
    body = encoder.encode(value);
  } catch (e) {
    throw new FrameError('malformed', `cannot encode message: ${(e as Error).message}`);
  }
  if (body.byteLength > MAX_FRAME_BYTES) {
    throw new FrameError(
      'oversized',
      `message of ${body.byteLength} bytes exceeds the ${MAX_FRAME_BYTES}-byte frame limit`,
    );
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Encodes a map whose last field is a large binary value as a header Buffer plus the payload
 * itself, so the payload is never copied: write `head` then `payload` (for example corked, or
 * with `writev`). `fields` must not contain `binaryKey`. The result on the wire is exactly what
 * `encodeFrame({ ...fields, [binaryKey]: payload })` produces, up to key order.
 */
export function encodeBinaryFrame(
  fields: Record<string, unknown>,
  binaryKey: string,
  payload: Uint8Array,
): { head: Buffer; payload: Uint8Array } {
  return { head: encodeBinaryHead(fields, binaryKey, payload.byteLength), payload };
}

/**
 * The frame header and MessagePack prefix of a map whose last field, `binaryKey`, is a binary
 * value of `length` bytes that the caller writes right after (in as many pieces as it likes).
 * Throws `FrameError('oversized')` when the body would pass `MAX_FRAME_BYTES`.
 */
export function encodeBinaryHead(
  fields: Record<string, unknown>,
  binaryKey: string,
  length: number,
): Buffer {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  const count = entries.length + 1;
  if (count > 15) throw new FrameError('malformed', 'too many fields for a binary frame');
  const parts: Uint8Array[] = [Uint8Array.of(0x80 | count)];
  for (const [k, v] of entries) {
    parts.push(encoder.encode(k), encoder.encode(v));
  }
  parts.push(encoder.encode(binaryKey));
  const binHeader = Buffer.allocUnsafe(5);
  binHeader[0] = 0xc6; // bin 32
  binHeader.writeUInt32BE(length, 1);
  parts.push(binHeader);
  const prefix = Buffer.concat(parts);
  const bodyLength = prefix.byteLength + length;
  if (bodyLength > MAX_FRAME_BYTES) {
    throw new FrameError(
      'oversized',
      `message of ${bodyLength} bytes exceeds the ${MAX_FRAME_BYTES}-byte frame limit`,
    );
  }
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + prefix.byteLength);
  head.writeUInt32BE(bodyLength, 0);
  head.set(prefix, FRAME_HEADER_BYTES);
  return head;
}

/**
 * Marks a value `FrameDecoder` returns for one piece of a large frame whose last field is binary
 * (see `splitBinaryAbove`): the value holds every other field, and the binary field holds the
 * piece only; `value[BINARY_PIECE_AT]` is where the piece starts within the whole field.
 */
export const BINARY_PIECE_AT: unique symbol = Symbol('sluice.binaryPieceAt');

/**
 * Decodes a stream of frames incrementally. Feed it chunks in arrival order with `push`; it
 * returns the values completed by that chunk, in order. Chunks may split a frame anywhere,
 * including inside the length prefix.
 *
 * Guarantees: a length above `maxFrameBytes` throws `FrameError('oversized')` right after the
 * prefix arrives; a body that is not exactly one MessagePack value throws
 * `FrameError('malformed')`; the error's `values` holds the good values decoded from the same
 * chunk before the bad frame. After a throw the decoder is poisoned (every later `push` throws
 * the same error, with no values): the stream has lost its framing and must be closed. Binary fields of decoded values
 * may be views into the received chunk, so they are valid as long as the caller holds them.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1; // body length of the frame in progress, or -1 while reading its header
  private failure: FrameError | undefined;
  private readonly decoder = new Decoder({ useBigInt64: false });
  private readonly splitAbove: number;
  /** The large binary frame being passed on piece by piece, if any. */
  private split: { head: BinaryHead; at: number; left: number } | undefined;
  /** The frame in progress was looked at and is not one to split. */
  private whole = false;

  /**
   * `splitBinaryAbove`: a frame body of at least this many bytes that is a map ending in a
   * binary field (what `encodeBinaryHead` writes) is not gathered into one buffer: each received
   * piece of its payload is returned at once as its own value, marked with `BINARY_PIECE_AT`, as
   * a view of the received chunk (never copied). A receiver of large data events saves a copy of
   * every byte and the garbage of a frame-sized buffer per frame.
   * @default Infinity (every frame is returned whole)
   */
  constructor(options: { maxFrameBytes?: number; splitBinaryAbove?: number } = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.splitAbove = options.splitBinaryAbove ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes held for the frame in progress. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feeds `chunk`; returns every value it completes. Throws `FrameError` on a bad frame. */
  push(chunk: Uint8Array): unknown[] {
    if (this.failure) throw this.failure;
    const out: unknown[] = [];
    if (chunk.byteLength === 0) return out;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(buf);
    this.buffered += buf.byteLength;
    try {
      for (;;) {
        if (this.need === -1) {
          if (this.buffered < FRAME_HEADER_BYTES) break;
          const length = this.peekLength();
          if (length > this.maxFrameBytes) {
            throw new FrameError(
              'oversized',
              `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`,
            );
          }
          if (length === 0) throw new FrameError('malformed', 'empty frame body');
          this.take(FRAME_HEADER_BYTES);
          this.need = length;
          this.whole = length < this.splitAbove;
        }
        if (this.split === undefined && !this.whole) {
          if (this.buffered === 0) break;
          const peek = Math.min(this.need, BINARY_HEAD_PEEK, this.buffered);
          const head = readBinaryHead(this.peek(peek), this.need);
          if (head === 'more') {
            // The head has not all arrived yet; past BINARY_HEAD_PEEK bytes it is no head of ours.
            if (peek < Math.min(this.need, BINARY_HEAD_PEEK)) break;
            this.whole = true;
          } else if (head === undefined || head.headBytes === this.need) {
            this.whole = true; // not a binary map, or an empty payload: decoded whole
          } else {
            this.take(head.headBytes);
            this.split = { head, at: 0, left: this.need - head.headBytes };
            this.need -= head.headBytes;
          }
        }
        if (this.split) {
          const split = this.split;
          while (split.left > 0 && this.buffered > 0) {
            const piece = this.takeUpTo(split.left);
            out.push({
              ...split.head.fields,
              [split.head.key]: piece,
              [BINARY_PIECE_AT]: split.at,
            });
            split.at += piece.byteLength;
            split.left -= piece.byteLength;
            this.need -= piece.byteLength;
          }
          if (split.left > 0) break;
          this.split = undefined;
          this.need = -1;
          continue;
        }
        if (this.buffered < this.need) break;
        const body = this.take(this.need);
        this.need = -1;
        out.push(this.decodeBody(body));
      }
    } catch (e) {
      const failure =
        e instanceof FrameError ? e : new FrameError('malformed', (e as Error).message);
      this.chunks = [];
      this.buffered = 0;
      this.failure = new FrameError(failure.code, failure.message);
      failure.values = out;
      throw failure;
    }
    return out;
  }

  /**
   * Call at end of stream: throws `FrameError('truncated')` when a partial frame is left over
   * (the peer closed in the middle of a frame), else does nothing.
   */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.buffered > 0 || this.need >= 0) {
      this.failure = new FrameError(
        'truncated',
        `stream ended inside a frame (${this.buffered} of ${
          this.need >= 0 ? this.need : FRAME_HEADER_BYTES
        } bytes)`,
      );
      throw this.failure;
    }
  }

  private decodeBody(body: Buffer): unknown {
    try {
      return this.decoder.decode(body);
    } catch (e) {
      throw new FrameError(
        'malformed',
        `frame body is not one MessagePack value: ${(e as Error).message}`,
      );
    }
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.byteLength >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    let filled = 0;
    for (const c of this.chunks) {
      const n = Math.min(c.byteLength, FRAME_HEADER_BYTES - filled);
      c.copy(head, filled, 0, n);
      filled += n;
      if (filled === FRAME_HEADER_BYTES) break;
    }
    return head.readUInt32BE(0);
  }

  /** A copy of the first `n` buffered bytes (fewer when fewer are buffered), consuming nothing. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.byteLength >= n) return first.subarray(0, n);
    const out = Buffer.allocUnsafe(Math.min(n, this.buffered));
    let filled = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.byteLength, out.length - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (filled === out.length) break;
    }
    return out;
  }

  /** Removes and returns at most `n` bytes from the first buffered chunk (a view, no copy). */
  private takeUpTo(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.byteLength <= n) {
      this.chunks.shift();
      this.buffered -= first.byteLength;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return first.subarray(0, n);
  }

  /** Removes and returns the first `n` buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.byteLength === n) {
      this.chunks.shift();
      return first;
    }
    if (first.byteLength > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.byteLength, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.byteLength) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
