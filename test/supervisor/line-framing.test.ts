import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { supervise } from '../../src/supervisor/index.js';
import { LineFeed } from '../../src/supervisor/line-feed.js';
import { ByteLineSplitter, lineText } from '../../src/supervisor/line-splitter.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

function splitAll(chunks: Buffer[], max = 1 << 30, keepCharacters = true): string[] {
  const s = new ByteLineSplitter(max, keepCharacters);
  const out: string[] = [];
  const sink = (l: Buffer, complete: boolean) => out.push(lineText(l, complete));
  for (const c of chunks) s.push(c, sink);
  s.end(sink);
  return out;
}

function rawLines(chunks: Buffer[], max = 1 << 30): Buffer[] {
  const s = new ByteLineSplitter(max, false);
  const out: Buffer[] = [];
  const sink = (l: Buffer) => out.push(Buffer.from(l));
  for (const c of chunks) s.push(c, sink);
  s.end(sink);
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

  test('a line longer than maxLineBytes is cut into pieces; memory stays bounded', () => {
    const out = splitAll([Buffer.from('abcdefghij'), Buffer.from('klm\nxy')], 4);
    assert.deepEqual(out, ['abcd', 'efgh', 'ijkl', 'm', 'xy']);
  });

  test('text pieces end on a character boundary; raw pieces are cut at the exact byte count', () => {
    const text = 'aé€😀b'; // 1 + 2 + 3 + 4 + 1 bytes
    const bytes = Buffer.from(text);
    for (let max = 4; max <= 11; max++) {
      const pieces = splitAll([bytes], max);
      assert.equal(pieces.join(''), text, `max ${max}`);
      for (const p of pieces) {
        assert.ok(!p.includes('\uFFFD'), `max ${max}: ${JSON.stringify(pieces)}`);
        assert.ok(Buffer.byteLength(p) <= max);
      }
      const raw = rawLines([bytes], max);
      assert.deepEqual(Buffer.concat(raw), bytes);
      for (const r of raw.slice(0, -1)) assert.equal(r.length, max);
    }
  });

  test('text lines: CRLF reads as LF, invalid UTF-8 becomes U+FFFD; raw lines keep every byte', () => {
    const input = Buffer.from([0x61, 0x0d, 0x0a, 0xff, 0x62, 0x0a, 0x0d, 0x0d, 0x0a]);
    assert.deepEqual(splitAll([input]), ['a', '\uFFFDb', '\r']);
    assert.deepEqual(rawLines([input]), [
      Buffer.from([0x61, 0x0d]),
      Buffer.from([0xff, 0x62]),
      Buffer.from([0x0d, 0x0d]),
    ]);
  });

  test('LineFeed: streams are read one after another, concurrent next() calls are all served', async () => {
    const feed = new LineFeed({ maxQueueBytes: 1 << 20, maxLineBytes: 1 << 20 });
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
  test('LineFeed: bounded in bytes; a waiting consumer still gets a line longer than the bound', async () => {
    const feed = new LineFeed({ maxQueueBytes: 16 * 1024, maxLineBytes: 1 << 20 });
    const src = new PassThrough({ highWaterMark: 1 });
    feed.add(src);
    const line = 'x'.repeat(10 * 1024);
    // Nobody waits: two 10 KiB lines pass the 16 KiB bound and the stream is paused.
    src.write(`${line}\n`);
    src.write(`${line}\n`);
    await waitFor(() => feed.heldBytes === 2 * (line.length + 1), { message: 'two lines held' });
    assert.ok(src.isPaused(), 'paused past maxQueueBytes');
    src.write('z\n'); // stays in the stream's buffer, not in the feed
    await new Promise((r) => setImmediate(r));
    assert.equal(feed.heldBytes, 2 * (line.length + 1));
    assert.equal((await feed.next()).value, line);
    assert.equal((await feed.next()).value, line);
    assert.equal((await feed.next()).value, 'z');
    // Now someone waits for a line of 64 KiB, four times the bound: it is read to its end.
    const long = 'y'.repeat(64 * 1024);
    const waiting = feed.next();
    for (let at = 0; at < long.length; at += 4096) src.write(long.slice(at, at + 4096));
    src.end('\n');
    assert.equal((await waiting).value, long);
    feed.finish();
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
      const child = await supervise({ argv: ['sh', '-c', `yes ${line} | head -n ${N}`] });
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
      assert.equal((await child.done).exitCode, 0);
    }),
  );

  test(
    'leaving the loop early drains the rest, so the child is never blocked',
    withLeakCheck(async () => {
      const child = await supervise({ argv: ['sh', '-c', 'yes | head -n 250000'] });
      let n = 0;
      for await (const _ of child.lines()) if (++n === 10) break;
      const info = await child.done;
      assert.deepEqual([info.exitCode, info.outcome], [0, 'natural']);
    }),
  );
});
