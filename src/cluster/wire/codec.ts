/**
 * Codecs: how items and results become message bodies. MessagePack (`@msgpack/msgpack`) is the
 * default; JSON is the option for payloads other tools must read. Both sides of a stage must use
 * the same codec: every item carries its codec's name in a header, and a worker answers an item
 * whose codec it does not know with a failed result instead of guessing.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { InvalidOptionError } from '../../proc/index.js';

/**
 * Turns values into bytes and back. `name` travels with every message (keep it short and
 * stable). `encode` may throw for a value it cannot represent: `submit` then rejects with that
 * error, and a worker turns it into a failed result.
 */
export interface Codec {
  /** Sent in the `Sluice-Codec` header of every item and result. */
  readonly name: string;
  /** The bytes of `value`; may throw for a value it cannot represent. */
  encode(value: unknown): Uint8Array;
  /** The value `encode` made these bytes from; may throw for bytes it did not make. */
  decode(bytes: Uint8Array): unknown;
}

// One encoder and one decoder for every message: the library's `encode()` and `decode()` build
// new ones (and their buffers) on each call. They return copies and cope with re-entry.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/**
 * MessagePack: compact, keeps `Uint8Array`s as binary, `Date`s as timestamps; `undefined`
 * becomes `null` (`ignoreUndefined` for object fields), `Map`s and class instances are not
 * supported (encode them yourself).
 */
export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode: (value) => encoder.encode(value),
  decode: (bytes) => decoder.decode(bytes),
};

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON (UTF-8): readable by any tool; `undefined` fields are dropped, `Date`s become strings,
 * binary data becomes an object of numbers, and `BigInt`s throw. A top-level `undefined` is
 * sent as `null`.
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode: (value) => utf8.encode(JSON.stringify(value === undefined ? null : value)),
  decode: (bytes) => JSON.parse(fromUtf8.decode(bytes)) as unknown,
};

/** The codecs every worker knows by name. */
export const builtinCodecs: ReadonlyMap<string, Codec> = new Map([
  ['msgpack', msgpackCodec],
  ['json', jsonCodec],
]);

/** A codec option: a built-in codec's name or a codec object. */
export type CodecOption = 'msgpack' | 'json' | Codec;

/** Resolves a codec option; throws `InvalidOptionError` for anything else. */
export function resolveCodec(option: CodecOption | undefined, name = 'codec'): Codec {
  if (option === undefined) return msgpackCodec;
  if (typeof option === 'string') {
    const codec = builtinCodecs.get(option);
    if (codec) return codec;
  } else if (
    option !== null &&
    typeof option === 'object' &&
    typeof option.name === 'string' &&
    option.name !== '' &&
    typeof option.encode === 'function' &&
    typeof option.decode === 'function'
  ) {
    return option;
  }
  throw new InvalidOptionError(
    name,
    'must be "msgpack", "json" or an object with name, encode and decode',
  );
}
