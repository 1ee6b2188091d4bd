import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidOptionError, spawnGroup } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

/** A child printing `bytes` bytes of a counting pattern (not zeros: misplaced bytes show). */
const PATTERN = (bytes: number) => [
  'sh',
  '-c',
  `i=0; while [ $i -lt 4096 ]; do printf '%08d' $i; i=$((i+1)); done | head -c ${bytes}`,
];

function expected(bytes: number): Buffer {
  let s = '';
  for (let i = 0; i < 4096; i++) s += String(i).padStart(8, '0');
  return Buffer.from(s).subarray(0, bytes);
}

const DRAIN_MS = 20;

const ended = (s: NodeJS.ReadableStream) =>
  new Promise<void>((resolve) => {
    s.once('end', () => resolve());
    s.once('close', () => resolve());
  });

describe('proc: spawnGroup onRead (reading a pipe into the caller’s buffer)', () => {
  test(
    'every byte arrives through the callback, in order, in a reused buffer; no data events; end fires',
    withLeakCheck(async () => {
      const buffer = Buffer.alloc(1000); // small: many reads into the same memory
      const hash = createHash('sha256');
      let got = 0;
      let reads = 0;
      const p = await spawnGroup({
        argv: PATTERN(32768),
        stdio: ['ignore', 'pipe', 'ignore'],
        onRead: {
          stdout: {
            buffer,
            callback: (n, b) => {
              assert.equal(b, buffer);
              hash.update(b.subarray(0, n));
              got += n;
              reads++;
              return true;
            },
          },
        },
      });
      let dataEvents = 0;
      p.stdout!.on('data', () => dataEvents++);
      await ended(p.stdout!);
      await p.exited;
      await p.closed;
      assert.equal(got, 32768);
      assert.ok(reads >= 33, `${reads} reads of at most 1000 bytes`);
      assert.equal(dataEvents, 0);
      assert.equal(hash.digest('hex'), createHash('sha256').update(expected(32768)).digest('hex'));
    }),
  );

  test(
    'a buffer function gives fresh memory per read (kept without copying); false pauses until resume()',
    withLeakCheck(async () => {
      const kept: Buffer[] = [];
      let calls = 0;
      let paused = false;
      const p = await spawnGroup({
        argv: PATTERN(20000),
        stdio: ['ignore', 'pipe', 'ignore'],
        drainMs: DRAIN_MS,
        onRead: {
          stdout: {
            buffer: () => {
              calls++;
              return Buffer.alloc(4096);
            },
            callback: (n, b) => {
              kept.push(Buffer.from(b.buffer, b.byteOffset, n));
              if (kept.length === 1) {
                paused = true;
                return false;
              }
              return true;
            },
          },
        },
      });
      await waitFor(() => paused, { message: 'the first read never came' });
      // The child writes everything into the pipe and exits; held by the pause, the rest stays
      // in the kernel: no read happens and the pipe is not cut as if a foreign writer held it,
      // however many drain windows pass.
      await p.exited;
      await delay(DRAIN_MS * 6);
      assert.equal(kept.length, 1, 'no read while paused');
      assert.equal(p.stdout!.destroyed, false, 'a paused pipe is not cut after the exit');
      p.stdout!.resume();
      await ended(p.stdout!);
      await p.exited;
      await p.closed;
      assert.deepEqual(Buffer.concat(kept), expected(20000), 'each read kept its own memory');
      assert.ok(calls >= kept.length, 'one fresh buffer per read');
    }),
  );

  test(
    'a merged stderr is read through stdout’s callback',
    withLeakCheck(async () => {
      const buffer = Buffer.alloc(64);
      let text = '';
      const p = await spawnGroup({
        argv: ['sh', '-c', 'echo out; echo err >&2; echo out2'],
        stdio: ['ignore', 'pipe', 'stdout'],
        onRead: {
          stdout: {
            buffer,
            callback: (n) => {
              text += buffer.toString('utf8', 0, n);
              return true;
            },
          },
        },
      });
      await ended(p.stdout!);
      await p.exited;
      await p.closed;
      assert.equal(text, 'out\nerr\nout2\n');
    }),
  );

  test(
    'a malformed onRead is an InvalidOptionError and nothing starts',
    withLeakCheck(async () => {
      const bad: unknown[] = [
        null,
        'x',
        { stdout: { buffer: Buffer.alloc(0), callback: () => true } },
        { stdout: { buffer: 'x', callback: () => true } },
        { stderr: { buffer: Buffer.alloc(8) } },
      ];
      for (const onRead of bad) {
        const e = await spawnGroup({
          argv: ['sh', '-c', 'exit 0'],
          onRead: onRead as never,
        }).then(
          () => assert.fail(`accepted ${JSON.stringify(onRead)}`),
          (x: unknown) => x,
        );
        assert.ok(e instanceof InvalidOptionError, String(e));
        assert.match(e.option, /^onRead/);
      }
    }),
  );
});
