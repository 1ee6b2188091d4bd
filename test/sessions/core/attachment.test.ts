import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AttachmentHost } from '../../../src/sessions/core/attachment.js';
import { OutputStream } from '../../../src/sessions/core/output-stream.js';
import {
  AlreadyAttachedError,
  type Attachment,
  AttachmentClosedError,
  type AttachmentFrame,
  ReadOnlyAttachmentError,
} from '../../../src/sessions/index.js';
import { outputOf } from '../lib-helpers.js';

function makeStream(ringBytes = 1 << 20) {
  const writes: string[] = [];
  const host: AttachmentHost = {
    sessionId: 'test',
    writeInput: async (d) => {
      writes.push(Buffer.from(d).toString());
      return Buffer.byteLength(d);
    },
    closeInput: async () => {},
    resize: () => {},
    release: (a) => stream.release(a),
  };
  const stream = new OutputStream(host, 'stdout', ringBytes);
  return { stream, writes };
}

function chunk(i: number, size: number): Buffer {
  return Buffer.alloc(size, 97 + (i % 26));
}

/** Drains whatever is queued now. */
function drain(a: Attachment): AttachmentFrame[] {
  const out: AttachmentFrame[] = [];
  for (let f = a.read(); f !== undefined; f = a.read()) out.push(f);
  return out;
}

describe('attachments', () => {
  it('replays the backlog, then delivers live output in order with absolute offsets', () => {
    const { stream } = makeStream();
    stream.push(Buffer.from('before '));
    const a = stream.attach();
    assert.equal(a.backlog.toString(), 'before ');
    assert.equal(a.backlogOffset, 0);
    assert.equal(a.missedBytes, 0);
    stream.push(Buffer.from('one '));
    stream.push(Buffer.from('two'));
    const frames = drain(a);
    assert.deepEqual(
      frames.map((f) => (f.type === 'output' ? [f.offset, f.data.toString()] : f.type)),
      [
        [7, 'one '],
        [11, 'two'],
      ],
    );
    assert.equal(a.position, 14);
  });

  it('a slow client loses its oldest frames and is told how many bytes; a fast one loses none', () => {
    const { stream } = makeStream();
    const fast: AttachmentFrame[] = [];
    const fastAtt = stream.attach({ readOnly: true });
    fastAtt.on('frame', (f) => fast.push(f));
    const slow = stream.attach({ readOnly: true, maxQueueBytes: 50_000 });
    slow.pause(); // not reading at all
    return new Promise<void>((resolve) => {
      queueMicrotask(() => {
        let total = 0;
        for (let i = 0; i < 100; i++) {
          stream.push(chunk(i, 10_000));
          total += 10_000;
        }
        assert.equal(fastAtt.missedBytes, 0);
        assert.equal(outputOf(fast).length, total);
        assert.ok(slow.queuedBytes <= 50_000, `queue stays bounded (${slow.queuedBytes})`);
        const got = drain(slow);
        const missed = got.filter((f) => f.type === 'missed');
        assert.equal(missed.length, 1);
        assert.equal(got[0]!.type, 'missed', 'the gap is reported before what follows it');
        const delivered = outputOf(got).length;
        assert.equal(slow.missedBytes, total - delivered);
        assert.equal((missed[0] as { bytes: number }).bytes, total - delivered);
        assert.equal((missed[0] as { offset: number }).offset, total - delivered);
        assert.equal(slow.position, total);
        // What it got is exactly the stream's tail.
        assert.deepEqual(outputOf(got), stream.snapshot(total - delivered).data);
        resolve();
      });
    });
  });

  it('one writer per stream: a second gets AlreadyAttachedError, steal evicts with a stolen frame', async () => {
    const { stream, writes } = makeStream();
    const first = stream.attach();
    const viewer = stream.attach({ readOnly: true });
    assert.throws(() => stream.attach(), AlreadyAttachedError);
    const thief = stream.attach({ steal: true });
    stream.push(Buffer.from('after'));
    const firstFrames = drain(first);
    assert.deepEqual(firstFrames, [{ type: 'stolen' }]);
    assert.equal(first.stolen, true);
    assert.equal(first.closed, true);
    await assert.rejects(first.write('x'), AttachmentClosedError);
    await thief.write('typed');
    assert.deepEqual(writes, ['typed']);
    assert.equal(outputOf(drain(viewer)).toString(), 'after', 'viewers are not affected');
    assert.equal(outputOf(drain(thief)).toString(), 'after');
    await assert.rejects(viewer.write('x'), ReadOnlyAttachmentError);
    assert.throws(() => viewer.resize(10, 10), ReadOnlyAttachmentError);
    void thief.detach();
    const again = stream.attach(); // the seat is free once the writer detaches
    void again.detach();
    void viewer.detach();
  });

  it('detach and re-attach from the old position neither loses nor repeats output', () => {
    const { stream } = makeStream();
    const seen: Buffer[] = [];
    let a = stream.attach();
    seen.push(a.backlog);
    for (let round = 0; round < 5; round++) {
      stream.push(Buffer.from(`live-${round};`));
      seen.push(outputOf(drain(a)));
      stream.push(Buffer.from(`while-detached-${round};`));
      const at = a.position;
      void a.detach();
      stream.push(Buffer.from(`still-detached-${round};`));
      a = stream.attach({ fromOffset: at });
      assert.equal(a.missedBytes, 0);
      seen.push(a.backlog);
    }
    void a.detach();
    assert.deepEqual(Buffer.concat(seen), stream.snapshot().data);
  });

  it('iterating: breaking out detaches and frees the seat; exit ends the iteration', async () => {
    const { stream } = makeStream();
    const a = stream.attach();
    stream.push(Buffer.from('x'));
    for await (const f of a) {
      assert.equal(f.type, 'output');
      break;
    }
    assert.equal(a.closed, true);
    const b = stream.attach();
    const done = (async () => {
      const frames: AttachmentFrame[] = [];
      for await (const f of b) frames.push(f);
      return frames;
    })();
    stream.push(Buffer.from('y'));
    stream.end();
    stream.finish({ exitCode: 0, signal: null, outcome: 'natural' }, 1);
    assert.deepEqual(
      (await done).map((f) => f.type),
      ['output', 'eof', 'exit'],
    );
    const late = stream.attach();
    assert.equal(late.backlog.toString(), 'xy', 'attaching after the exit still replays');
    assert.deepEqual(drain(late), [
      { type: 'eof', offset: 2 },
      {
        type: 'exit',
        exitInfo: { exitCode: 0, signal: null, outcome: 'natural' },
        exitedAt: 1,
        exitState: { exitCode: 0, signal: null, outcome: 'natural', exitedAt: 1 },
      },
    ]);
  });

  it('the ring drops what it cannot keep, and an attach says how much it missed', () => {
    const { stream } = makeStream(8);
    stream.push(Buffer.from('0123456789abc'));
    const a = stream.attach();
    assert.equal(a.backlog.toString(), '56789abc');
    assert.equal(a.missedBytes, 5);
    const snap = stream.snapshot();
    assert.equal(snap.missedBytes, 5);
    assert.equal(snap.end, 13);
    void a.detach();
  });
});

describe('lossless attachments', () => {
  function holdingStream() {
    const holds: boolean[] = [];
    const host: AttachmentHost = {
      sessionId: 'test',
      writeInput: async (d) => Buffer.byteLength(d),
      closeInput: async () => {},
      resize: () => {},
      release: (a) => stream.release(a),
      holdReading: (name, held) => {
        assert.equal(name, 'stdout');
        holds.push(held);
      },
    };
    const stream = new OutputStream(host, 'stdout', 1 << 20);
    return { stream, holds };
  }

  it('hold the stream at the bound instead of dropping, and let go at half', () => {
    const { stream, holds } = holdingStream();
    const a = stream.attach({ lossless: true, maxQueueBytes: 40_000 });
    assert.equal(a.lossless, true);
    for (let i = 0; i < 3; i++) stream.push(chunk(i, 10_000));
    assert.deepEqual(holds, [], 'under the bound nothing is held');
    stream.push(chunk(3, 10_000));
    assert.deepEqual(holds, [true], 'at the bound the stream is held');
    assert.equal(stream.held, true);
    // What a reader had in flight when the hold began still arrives, never dropped.
    stream.push(chunk(4, 10_000));
    assert.equal(a.queuedBytes, 50_000);
    assert.ok(a.read()); // 40,000 left: still held
    assert.ok(a.read()); // 30,000
    assert.deepEqual(holds, [true]);
    assert.ok(a.read()); // 20,000: half the bound
    assert.deepEqual(holds, [true, false]);
    assert.equal(stream.held, false);
    const rest = drain(a);
    assert.equal(rest.length, 2);
    assert.equal(a.missedBytes, 0);
    assert.equal(a.position, 50_000);
  });

  it('a hold lasts while any lossless client is full, and a detach lifts its own at once', async () => {
    const { stream, holds } = holdingStream();
    const a = stream.attach({ lossless: true, maxQueueBytes: 10_000 });
    const b = stream.attach({ lossless: true, readOnly: true, maxQueueBytes: 10_000 });
    const lossy = stream.attach({ readOnly: true, maxQueueBytes: 10_000 });
    stream.push(chunk(0, 10_000));
    stream.push(chunk(1, 10_000));
    assert.deepEqual(holds, [true]);
    drain(a);
    assert.deepEqual(holds, [true], 'b is still full');
    await b.detach();
    assert.deepEqual(holds, [true, false]);
    assert.equal(lossy.missedBytes, 10_000, 'a lossy client beside them still drops');
    await a.detach();
    await lossy.detach();
  });

  it('the end of the stream lifts a hold; every byte is still delivered', () => {
    const { stream, holds } = holdingStream();
    const a = stream.attach({ lossless: true, maxQueueBytes: 10_000 });
    stream.push(chunk(0, 30_000));
    assert.deepEqual(holds, [true]);
    stream.end();
    stream.finish({ exitCode: 0, signal: null, outcome: 'natural' }, Date.now());
    assert.deepEqual(holds, [true, false]);
    const frames = drain(a);
    assert.equal(outputOf(frames).length, 30_000);
    assert.deepEqual(
      frames.slice(-2).map((f) => f.type),
      ['eof', 'exit'],
    );
  });

  it('are refused by a host that cannot hold its output', () => {
    const { stream } = makeStream();
    assert.throws(() => stream.attach({ lossless: true }), {
      name: 'InvalidOptionError',
      message: /lossless/,
    });
    assert.equal(stream.hasWriter, false, 'nothing was taken');
  });
});

describe('attachment invariants (property)', () => {
  it('whatever the pace, delivered + missed = pushed, in order, with contiguous offsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.array(
          fc.oneof(
            fc.record({ push: fc.integer({ min: 1, max: 900 }) }),
            fc.record({ read: fc.integer({ min: 0, max: 5 }) }),
          ),
          { maxLength: 60 },
        ),
        (maxQueueBytes, steps) => {
          const { stream } = makeStream(1 << 16);
          const a = stream.attach({ readOnly: true, maxQueueBytes });
          let pushed = 0;
          let delivered = 0;
          let missed = 0;
          let expectAt = 0;
          const take = (f: AttachmentFrame) => {
            if (f.type === 'output') {
              assert.equal(f.offset, expectAt, 'no gap without a missed frame');
              assert.ok(f.data.equals(stream.snapshot(f.offset).data.subarray(0, f.data.length)));
              expectAt += f.data.length;
              delivered += f.data.length;
            } else if (f.type === 'missed') {
              assert.equal(f.offset, expectAt + f.bytes);
              expectAt = f.offset;
              missed += f.bytes;
            }
          };
          for (const step of steps) {
            if ('push' in step) {
              stream.push(chunk(pushed, step.push));
              pushed += step.push;
              assert.ok(a.queuedBytes <= maxQueueBytes);
            } else {
              for (let i = 0; i < step.read; i++) {
                const f = a.read();
                if (f) take(f);
              }
            }
          }
          for (let f = a.read(); f; f = a.read()) take(f);
          assert.equal(delivered + missed, pushed);
          assert.equal(a.missedBytes, missed);
          assert.equal(a.position, pushed);
          void a.detach();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('push mode: pause holds frames (bounded), resume flushes them in order, end fires once', async () => {
    const { stream } = makeStream();
    const a = stream.attach({ readOnly: true });
    const got: AttachmentFrame[] = [];
    let ends = 0;
    a.on('frame', (f) => got.push(f));
    a.on('end', () => ends++);
    await null; // flowing starts on the next microtask
    stream.push(Buffer.from('a'));
    assert.equal(got.length, 1);
    a.pause();
    stream.push(Buffer.from('b'));
    stream.push(Buffer.from('c'));
    assert.equal(got.length, 1);
    assert.equal(a.queuedBytes, 2);
    a.resume();
    assert.equal(outputOf(got).toString(), 'abc');
    stream.end();
    stream.finish({ exitCode: 0, signal: null, outcome: 'natural' }, 1);
    await null;
    await null;
    assert.deepEqual(
      got.map((f) => f.type),
      ['output', 'output', 'output', 'eof', 'exit'],
    );
    assert.equal(ends, 1);
    assert.equal(a.closed, true);
  });
});
