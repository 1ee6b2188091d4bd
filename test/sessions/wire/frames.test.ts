import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  BINARY_PIECE_AT,
  encodeBinaryFrame,
  encodeBinaryHead,
  encodeFrame,
  FrameDecoder,
  FrameError,
  MAX_FRAME_BYTES,
} from '../../../src/sessions/wire/frames.js';

/** Values MessagePack round-trips exactly (no undefined, no -0, no sparse arrays). */
const wireValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 300 }),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 5 }),
  ),
})).node;

/** Cuts `bytes` at the given sorted offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bin: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

describe('frames', () => {
  test('a sequence of frames cut at random points decodes to the same values', () => {
    fc.assert(
      fc.property(
        fc.array(wireValue, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (values, offsets) => {
          const bytes = Buffer.concat(values.map((v) => encodeFrame(v)));
          const decoder = new FrameDecoder();
          const got: unknown[] = [];
          for (const chunk of cut(bytes, offsets)) got.push(...decoder.push(chunk));
          decoder.end();
          assert.deepEqual(got.map(normalize), values.map(normalize));
          assert.equal(decoder.pendingBytes, 0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('50,000 random byte streams: values or a FrameError, never another exception', () => {
    let errors = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          // A plausible small length prefix, then random bytes: reaches the MessagePack decoder.
          fc
            .tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 60 }))
            .map(([n, body]) => {
              const b = Buffer.alloc(4 + body.length);
              b.writeUInt32BE(n, 0);
              b.set(body, 4);
              return new Uint8Array(b);
            }),
        ),
        fc.array(fc.nat(), { maxLength: 4 }),
        (bytes, offsets) => {
          const decoder = new FrameDecoder();
          try {
            for (const chunk of cut(Buffer.from(bytes), offsets)) decoder.push(chunk);
            decoder.end();
          } catch (e) {
            if (!(e instanceof FrameError)) throw e;
            assert.ok(['oversized', 'malformed', 'truncated'].includes(e.code));
            errors++;
            // Poisoned: the next push fails the same way.
            assert.throws(() => decoder.push(Buffer.of(0)), FrameError);
          }
        },
      ),
      { numRuns: 50_000 },
    );
    assert.ok(errors > 1000, `random bytes should often be refused (${errors})`);
  });

  test('50,000 truncated frames yield no value and end() reports the truncation', () => {
    // Frames drawn once from the value generator; each run cuts one at a random point.
    const frames = fc.sample(wireValue, { numRuns: 2000, seed: 42 }).map((v) => encodeFrame(v));
    fc.assert(
      fc.property(
        fc.nat(frames.length - 1),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 3 }),
        (which, at, offsets) => {
          const frame = frames[which]!;
          const keep = at % frame.length; // strictly shorter than the frame
          const decoder = new FrameDecoder();
          for (const chunk of cut(frame.subarray(0, keep), offsets)) {
            assert.deepEqual(decoder.push(chunk), []);
          }
          if (keep === 0) {
            decoder.end();
          } else {
            assert.throws(
              () => decoder.end(),
              (e: unknown) => e instanceof FrameError && e.code === 'truncated',
            );
          }
        },
      ),
      { numRuns: 50_000 },
    );
  });

  test('an oversized length is refused as soon as its 4 bytes arrive, before any body', () => {
    const decoder = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    assert.deepEqual(decoder.push(header.subarray(0, 3)), []);
    assert.throws(
      () => decoder.push(header.subarray(3)),
      (e: unknown) =>
        e instanceof FrameError &&
        e.code === 'oversized' &&
        /exceeds the 4194304-byte/.test(e.message),
    );
    assert.equal(decoder.pendingBytes, 0, 'nothing is kept after the refusal');
  });

  test('a frame of exactly 4 MiB passes; encoding one byte more throws', () => {
    // bin 32 header is 5 bytes, so a payload of MAX - 5 makes a body of exactly MAX.
    const exact = encodeFrame(new Uint8Array(MAX_FRAME_BYTES - 5));
    assert.equal(exact.readUInt32BE(0), MAX_FRAME_BYTES);
    const [v] = new FrameDecoder().push(exact);
    assert.equal((v as Uint8Array).byteLength, MAX_FRAME_BYTES - 5);
    assert.throws(
      () => encodeFrame(new Uint8Array(MAX_FRAME_BYTES - 4)),
      (e: unknown) => e instanceof FrameError && e.code === 'oversized',
    );
  });

  test('an empty body and trailing bytes after a value are malformed', () => {
    assert.throws(
      () => new FrameDecoder().push(Buffer.alloc(4)),
      (e: unknown) => e instanceof FrameError && e.code === 'malformed',
    );
    const two = Buffer.from([0, 0, 0, 2, 0x01, 0x02]); // two fixints in one body
    assert.throws(
      () => new FrameDecoder().push(two),
      (e: unknown) => e instanceof FrameError && e.code === 'malformed',
    );
  });

  test('encodeBinaryFrame is byte-compatible with encodeFrame and keeps the payload uncopied', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (payload, n) => {
        const { head, payload: p } = encodeBinaryFrame({ ev: 'data', n }, 'data', payload);
        assert.equal(p, payload);
        const [v] = new FrameDecoder().push(Buffer.concat([head, p]));
        assert.deepEqual(normalize(v), normalize({ ev: 'data', n, data: payload }));
      }),
      { numRuns: 500 },
    );
  });

  test('the good frames before a bad one in the same chunk come with the error', () => {
    const decoder = new FrameDecoder();
    const chunk = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame('b'), Buffer.alloc(4)]);
    assert.throws(
      () => decoder.push(chunk),
      (e: unknown) => e instanceof FrameError && e.code === 'malformed' && e.values.length === 2,
    );
    assert.throws(
      () => decoder.push(encodeFrame(1)),
      (e: unknown) => e instanceof FrameError && e.values.length === 0,
    );
  });

  test('values MessagePack cannot carry are refused with a FrameError', () => {
    assert.throws(
      () => encodeFrame({ f: () => 1 }),
      (e: unknown) => e instanceof FrameError && e.code === 'malformed',
    );
  });
});

describe('frames split into binary pieces (splitBinaryAbove)', () => {
  /** Joins consecutive pieces of one frame back into its value. */
  function join(values: unknown[]): unknown[] {
    const out: unknown[] = [];
    let open: { value: Record<string, unknown>; key: string; parts: Buffer[] } | undefined;
    for (const v of values) {
      const at =
        v !== null && typeof v === 'object'
          ? (v as { [BINARY_PIECE_AT]?: number })[BINARY_PIECE_AT]
          : undefined;
      if (at === undefined) {
        if (open) out.push({ ...open.value, [open.key]: Buffer.concat(open.parts) });
        open = undefined;
        out.push(v);
        continue;
      }
      const record = v as Record<string, unknown>;
      const key = Object.keys(record).find((k) => record[k] instanceof Uint8Array)!;
      const piece = record[key] as Buffer;
      if (at === 0) {
        if (open) out.push({ ...open.value, [open.key]: Buffer.concat(open.parts) });
        open = { value: { ...record }, key, parts: [] };
      }
      assert.ok(open, 'a piece at a non-zero position follows its frame');
      assert.equal(at, Buffer.concat(open.parts).length, 'pieces arrive in order, contiguous');
      open.parts.push(piece);
    }
    if (open) out.push({ ...open.value, [open.key]: Buffer.concat(open.parts) });
    return out;
  }

  const binaryFrame = fc.record({
    fields: fc.record({
      ev: fc.constantFrom('data', 'x'),
      offset: fc.oneof(fc.nat(), fc.maxSafeInteger().map(Math.abs), fc.double({ min: 0 })),
    }),
    payload: fc.uint8Array({ minLength: 0, maxLength: 200 }),
  });

  test('mixed binary and ordinary frames cut anywhere: the pieces join to the same values', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            binaryFrame,
            wireValue.map((v) => ({ plain: v })),
          ),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (frames, offsets, splitAbove) => {
          const parts: Buffer[] = [];
          const expected: unknown[] = [];
          for (const f of frames) {
            if ('plain' in f) {
              parts.push(encodeFrame(f.plain));
              expected.push(f.plain);
            } else {
              parts.push(encodeBinaryHead(f.fields, 'data', f.payload.length));
              parts.push(Buffer.from(f.payload));
              expected.push({ ...f.fields, data: f.payload });
            }
          }
          const decoder = new FrameDecoder({ splitBinaryAbove: splitAbove });
          const got: unknown[] = [];
          for (const chunk of cut(Buffer.concat(parts), offsets)) got.push(...decoder.push(chunk));
          decoder.end();
          assert.deepEqual(join(got).map(normalize), expected.map(normalize));
          assert.equal(decoder.pendingBytes, 0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('a large data frame comes out as views of the received chunks, never copied', () => {
    const payload = Buffer.alloc(300_000, 7);
    const bytes = Buffer.concat([
      encodeBinaryHead({ ev: 'data', offset: 5 }, 'data', 300_000),
      payload,
    ]);
    const decoder = new FrameDecoder({ splitBinaryAbove: 64 * 1024 });
    const chunks = cut(bytes, [10, 65_536, 131_072, 200_000]);
    let total = 0;
    for (const chunk of chunks) {
      for (const v of decoder.push(chunk)) {
        const r = v as { ev: string; offset: number; data: Buffer; [BINARY_PIECE_AT]: number };
        assert.equal(r.ev, 'data');
        assert.equal(r.offset, 5);
        assert.equal(r[BINARY_PIECE_AT], total);
        assert.equal(r.data.buffer, chunk.buffer, 'a view of the chunk it came in');
        total += r.data.length;
      }
    }
    assert.equal(total, 300_000);
    decoder.end();
  });

  test('random bytes: values or a FrameError, never another exception; a cut piece is truncated', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoder = new FrameDecoder({ splitBinaryAbove: 1, maxFrameBytes: 1000 });
        try {
          decoder.push(bytes);
          decoder.end();
        } catch (e) {
          assert.ok(e instanceof FrameError, String(e));
        }
      }),
      { numRuns: 20_000 },
    );
    const head = encodeBinaryHead({ ev: 'data', offset: 0 }, 'data', 100);
    const decoder = new FrameDecoder({ splitBinaryAbove: 10 });
    assert.equal(decoder.push(Buffer.concat([head, Buffer.alloc(40)])).length, 1);
    assert.throws(
      () => decoder.end(),
      (e: unknown) => e instanceof FrameError && e.code === 'truncated',
    );
  });
});
