/**
 * Reads the head of a frame body that is a MessagePack map whose last field is a bin 32 value
 * running to the end of the body (what `encodeBinaryHead` writes), so that `FrameDecoder` can
 * hand the payload on in pieces as it arrives instead of gathering the whole frame first.
 */

/** The head of a frame body that is a map ending in a bin 32 field, as `encodeBinaryHead` writes. */
export interface BinaryHead {
  fields: Record<string, unknown>;
  key: string;
  /** Bytes of the body before the binary payload. */
  headBytes: number;
}

/** Enough body bytes to hold the head of any frame `encodeBinaryHead` writes for the protocol. */
export const BINARY_HEAD_PEEK = 128;

/**
 * Reads the head of `body` (the first bytes of a frame body of `bodyLength` bytes) when it is a
 * map of string keys whose values are strings, numbers, booleans or nil, with a last field of
 * type bin 32 that runs to the end of the body. `'more'` when `body` ends before the head could
 * be read; undefined for anything else (the frame is then decoded whole, as usual).
 */
export function readBinaryHead(body: Buffer, bodyLength: number): BinaryHead | 'more' | undefined {
  const head = readHead(body, bodyLength);
  return head === undefined && short ? 'more' : head;
}

/** Set by `readHead` when it ran out of bytes. */
let short = false;

function readHead(body: Buffer, bodyLength: number): BinaryHead | undefined {
  short = false;
  const r = new HeadReader(body);
  const first = r.byte();
  if (first < 0x81 || first > 0x8f) return undefined;
  const count = first & 0x0f;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = r.value();
    if (typeof key !== 'string') return undefined;
    if (i < count - 1) {
      const v = r.value();
      if (v === undefined) return undefined;
      fields[key] = v;
      continue;
    }
    if (r.byte() !== 0xc6) return undefined;
    if (r.at + 4 > body.length) {
      short = true;
      return undefined;
    }
    const length = body.readUInt32BE(r.at);
    r.at += 4;
    if (r.at + length !== bodyLength) return undefined;
    return { fields, key, headBytes: r.at };
  }
  return undefined;
}

/**
 * A cursor over the head's bytes that reads the MessagePack scalars a head may hold; running
 * out of bytes sets `short` and gives -1 (a byte) or undefined (a value).
 */
class HeadReader {
  at = 0;

  constructor(private readonly body: Buffer) {}

  byte(): number {
    if (this.at < this.body.length) return this.body[this.at++]!;
    short = true;
    return -1;
  }

  #str(n: number): string | undefined {
    if (this.at + n > this.body.length) {
      short = true;
      return undefined;
    }
    const t = this.body.toString('utf8', this.at, this.at + n);
    this.at += n;
    return t;
  }

  #num(n: number, read: (o: number) => number | bigint): number | undefined {
    if (this.at + n > this.body.length) {
      short = true;
      return undefined;
    }
    const v = read(this.at);
    this.at += n;
    return typeof v === 'bigint'
      ? v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : undefined
      : v;
  }

  /** A string, number, boolean or nil; undefined for any other type or when bytes ran out. */
  value(): unknown {
    const body = this.body;
    const b = this.byte();
    if (b < 0) return undefined;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.#str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcc:
        return this.#num(1, (o) => body.readUInt8(o));
      case 0xcd:
        return this.#num(2, (o) => body.readUInt16BE(o));
      case 0xce:
        return this.#num(4, (o) => body.readUInt32BE(o));
      case 0xcf:
        return this.#num(8, (o) => body.readBigUInt64BE(o));
      case 0xd0:
        return this.#num(1, (o) => body.readInt8(o));
      case 0xd1:
        return this.#num(2, (o) => body.readInt16BE(o));
      case 0xd2:
        return this.#num(4, (o) => body.readInt32BE(o));
      case 0xcb:
        return this.#num(8, (o) => body.readDoubleBE(o));
      case 0xd9: {
        const n = this.byte();
        return n < 0 ? undefined : this.#str(n);
      }
      default:
        return undefined;
    }
  }
}
