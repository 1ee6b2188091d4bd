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
  let at = 0;
  const byte = () => {
    if (at < body.length) return body[at++]!;
    short = true;
    return -1;
  };
  const str = (n: number) => {
    if (at + n > body.length) {
      short = true;
      return undefined;
    }
    const t = body.toString('utf8', at, at + n);
    at += n;
    return t;
  };
  const num = (n: number, read: (o: number) => number | bigint) => {
    if (at + n > body.length) {
      short = true;
      return undefined;
    }
    const v = read(at);
    at += n;
    return typeof v === 'bigint'
      ? v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : undefined
      : v;
  };
  const value = (): unknown => {
    const b = byte();
    if (b < 0) return undefined;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcc:
        return num(1, (o) => body.readUInt8(o));
      case 0xcd:
        return num(2, (o) => body.readUInt16BE(o));
      case 0xce:
        return num(4, (o) => body.readUInt32BE(o));
      case 0xcf:
        return num(8, (o) => body.readBigUInt64BE(o));
      case 0xd0:
        return num(1, (o) => body.readInt8(o));
      case 0xd1:
        return num(2, (o) => body.readInt16BE(o));
      case 0xd2:
        return num(4, (o) => body.readInt32BE(o));
      case 0xcb:
        return num(8, (o) => body.readDoubleBE(o));
      case 0xd9: {
        const n = byte();
        return n < 0 ? undefined : str(n);
      }
      default:
        return undefined;
    }
  };
  const first = byte();
  if (first < 0x81 || first > 0x8f) return undefined;
  const count = first & 0x0f;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = value();
    if (typeof key !== 'string') return undefined;
    if (i < count - 1) {
      const v = value();
      if (v === undefined) return undefined;
      fields[key] = v;
      continue;
    }
    if (byte() !== 0xc6) return undefined;
    if (at + 4 > body.length) {
      short = true;
      return undefined;
    }
    const length = body.readUInt32BE(at);
    at += 4;
    if (at + length !== bodyLength) return undefined;
    return { fields, key, headBytes: at };
  }
  return undefined;
}
