import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidOptionError, RingBuffer } from '../../../src/sessions/index.js';

describe('RingBuffer', () => {
  it('keeps bytes exactly, \\r\\n included, and reads without consuming', () => {
    const r = new RingBuffer(64);
    r.write(Buffer.from('a\r\nb'));
    r.write(Buffer.from([0, 255, 10]));
    const first = r.read();
    assert.deepEqual(first.data, Buffer.concat([Buffer.from('a\r\nb'), Buffer.from([0, 255, 10])]));
    assert.equal(first.offset, 0);
    assert.equal(first.missed, 0);
    assert.deepEqual(r.read().data, first.data, 'a second read sees the same bytes');
    assert.equal(r.end, 7);
  });

  it('drops the oldest bytes, counts them, and reads by absolute offset', () => {
    const r = new RingBuffer(10);
    r.write(Buffer.from('0123456789'));
    r.write(Buffer.from('abcd'));
    assert.equal(r.start, 4);
    assert.equal(r.dropped, 4);
    assert.equal(r.end, 14);
    assert.equal(r.read().data.toString(), '456789abcd');
    assert.deepEqual(
      { ...r.read(2), data: r.read(2).data.toString() },
      { data: '456789abcd', offset: 4, missed: 2 },
    );
    assert.equal(r.read(12).data.toString(), 'cd');
    assert.equal(r.read(14).data.length, 0);
    assert.equal(r.read(99).offset, 14, 'past the end reads nothing, at the end');
  });

  it('keeps only the tail of a chunk larger than the capacity', () => {
    const r = new RingBuffer(4);
    r.write(Buffer.from('xy'));
    const at = r.write(Buffer.from('abcdefgh'));
    assert.equal(at, 2);
    assert.equal(r.read().data.toString(), 'efgh');
    assert.equal(r.start, 6);
  });

  it('rejects a bad capacity or offset with a typed error', () => {
    assert.throws(() => new RingBuffer(0), InvalidOptionError);
    assert.throws(() => new RingBuffer(1.5), InvalidOptionError);
    assert.throws(() => new RingBuffer(4).read(-1), InvalidOptionError);
  });

  it('matches a plain concatenation for any sequence of writes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 40 }),
        fc.nat(),
        (capacity, chunks, fromSeed) => {
          const r = new RingBuffer(capacity);
          let all = Buffer.alloc(0);
          for (const c of chunks) {
            assert.equal(r.write(c), all.length);
            all = Buffer.concat([all, c]);
          }
          const start = Math.max(0, all.length - capacity);
          assert.equal(r.start, start);
          assert.equal(r.end, all.length);
          assert.deepEqual(r.read().data, all.subarray(start));
          const from = all.length === 0 ? 0 : fromSeed % (all.length + 1);
          const got = r.read(from);
          assert.equal(got.offset, Math.max(from, start));
          assert.equal(got.missed, Math.max(0, start - from));
          assert.deepEqual(got.data, all.subarray(Math.max(from, start)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
