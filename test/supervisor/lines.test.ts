import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { supervise } from '../../src/supervisor/index.js';
import { LineFeed, LineSplitter } from '../../src/supervisor/lines.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

function splitAll(chunks: Buffer[], max?: number): string[] {
  const s = new LineSplitter(max);
  const out: string[] = [];
  for (const c of chunks) s.push(c, (l) => out.push(l));
  s.end((l) => out.push(l));
  return out;
}

describe('supervisor: line framing', () => {
  test('property: any byte chunking of UTF-8 text gives the same lines', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '')),
          {
            maxLength: 20,
          },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        (lines, crlf, trailing, cuts) => {
          const text = lines.join(crlf ? '\r\n' : '\n') + (trailing ? '\n' : '');
          const bytes = Buffer.from(text, 'utf8');
          const chunks: Buffer[] = [];
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            chunks.push(bytes.subarray(at, at + n));
            at += n;
          }
          // The model: split on (CR)LF; a final newline ends the last line, it does not start one.
          const expected = text.split(/\r?\n/);
          if (expected.at(-1) === '') expected.pop();
          assert.deepEqual(splitAll(chunks), expected);
        },
      ),
    );
  });

  test('a line longer than maxLength is cut into pieces; memory stays bounded', () => {
    const out = splitAll([Buffer.from('abcdefghij'), Buffer.from('klm\nxy')], 4);
    assert.deepEqual(out, ['abcd', 'efgh', 'ijkl', 'm', 'xy']);
  });

  test('LineFeed: streams are read one after another, concurrent next() calls are all served', async () => {
    const feed = new LineFeed();
    const a = new PassThrough();
    const b = new PassThrough();
    feed.add(a);
    feed.add(b);
    const pending = [feed.next(), feed.next(), feed.next()];
    b.end('b1\n'); // held until a ends
    a.write('a1\na');
    a.end('2\n');
    feed.finish();
    const got = await Promise.all(pending);
    assert.deepEqual(
      got.map((r) => r.value),
      ['a1', 'a2', 'b1'],
    );
    assert.equal((await feed.next()).done, true);
  });
});

describe('supervisor: lines() on a real child', () => {
  test(
    'a slow consumer pauses stdout (bounded queue) and loses nothing',
    withLeakCheck(async () => {
      // 2 MB in 100-byte lines: far past what the kernel (~200 KiB), the stream (~64 KiB) and the
      // feed (1024 lines plus one 64 KiB read) can hold, so the child must block.
      const N = 20_000;
      const line = 'y'.repeat(99);
      const child = await supervise({ cmd: ['sh', '-c', `yes ${line} | head -n ${N}`] });
      const it = child.lines();
      assert.equal((await it.next()).value, line);
      // The consumer stops: the feed fills its 1024 lines and pauses the pipe; the child blocks.
      await waitFor(() => child.stdout.isPaused(), { message: 'stdout paused' });
      assert.equal(child.running, true, 'the child is held by backpressure');
      let n = 1;
      let wrong = 0;
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (r.value !== line) wrong++;
        n++;
      }
      assert.deepEqual([n, wrong], [N, 0]);
      assert.equal((await child.done).code, 0);
    }),
  );

  test(
    'leaving the loop early drains the rest, so the child is never blocked',
    withLeakCheck(async () => {
      const child = await supervise({ cmd: ['sh', '-c', 'yes | head -n 250000'] });
      let n = 0;
      for await (const _ of child.lines()) if (++n === 10) break;
      const info = await child.done;
      assert.deepEqual([info.code, info.outcome], [0, 'natural']);
    }),
  );
});
