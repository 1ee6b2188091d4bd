/**
 * A child that writes without newlines against a consumer that does not read must not grow this
 * process's memory: the supervisor's stdout queue and its stderr line callbacks are bounded in
 * bytes, and past the bound the child blocks on its full pipe.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { groupMembers } from '../../src/proc/index.js';
import { supervise } from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
/** 2 GB of NUL bytes, no newline anywhere. */
const WRITER = 'head -c 2000000000 /dev/zero';

function rss(): number {
  return process.memoryUsage().rss;
}

/**
 * Waits until the child is held by backpressure: `bytes()` stops growing for a while (the pipe
 * and the bounded queue are full), then returns the RSS growth seen at its highest.
 */
async function settleAndMeasure(bytes: () => number, start: number): Promise<number> {
  let peak = rss() - start;
  let last = -1;
  let stableSince = performance.now();
  await waitFor(
    () => {
      peak = Math.max(peak, rss() - start);
      const now = bytes();
      if (now !== last) {
        last = now;
        stableSince = performance.now();
        return false;
      }
      return performance.now() - stableSince > 500;
    },
    { timeoutMs: 60_000, message: 'the writer was never held back' },
  );
  return Math.max(peak, rss() - start);
}

describe('adversary: supervisor memory against a writer with no newline', () => {
  test(
    'stdout: 2 GB without a newline and an idle lines() consumer keep RSS under 100 MB above the start',
    withLeakCheck(async () => {
      const start = rss();
      const child = await supervise({ argv: ['sh', '-c', WRITER], graceMs: 2000 });
      const lines = child.lines(); // taken, never read
      const socket = child.stdout as unknown as { bytesRead: number };
      const growth = await settleAndMeasure(() => socket.bytesRead, start);
      process.stderr.write(
        `# stdout: RSS +${(growth / MB).toFixed(1)} MB, ${(socket.bytesRead / MB).toFixed(1)} MB read\n`,
      );
      assert.ok(child.running, 'the writer is blocked, not finished');
      assert.ok(child.stdout.isPaused(), 'stdout is paused');
      assert.ok(socket.bytesRead < 64 * MB, `read ${socket.bytesRead} bytes before pausing`);
      assert.ok(growth < 100 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
      // A consumer that asks for a line still gets one: the first 16 MiB piece of it.
      const first = await lines.next();
      assert.equal(first.done, false);
      assert.equal(Buffer.byteLength(first.value as string), 16 * MB);
      await lines.return?.();
      const info = await child.stop({ graceMs: 2000, eofTimeoutMs: 0 });
      assert.notEqual(info.outcome, 'natural');
    }),
  );

  test(
    'stderr: an async onStderr that never settles pauses stderr; RSS stays under 100 MB above the start',
    withLeakCheck(async () => {
      const start = rss();
      let calls = 0;
      const child = await supervise({
        argv: ['sh', '-c', `${WRITER} >&2`],
        graceMs: 2000,
        onStderr: () => {
          calls++;
          return new Promise(() => {}); // a consumer that never finishes
        },
      });
      const growth = await settleAndMeasure(writtenByGroup(child.pid), start);
      process.stderr.write(`# stderr: RSS +${(growth / MB).toFixed(1)} MB, ${calls} calls\n`);
      assert.ok(child.running, 'the writer is blocked, not finished');
      assert.ok(calls <= 2, `onStderr was called ${calls} times while its promise was pending`);
      assert.ok(growth < 100 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
      await child.stop({ graceMs: 2000, eofTimeoutMs: 0 });
    }),
  );
});

/** How far the group's processes got writing: their summed `wchar`, from /proc. */
function writtenByGroup(pgid: number): () => number {
  return () => {
    let total = 0;
    for (const p of groupMembers(pgid, { includeZombies: false })) total += wchar(p.pid);
    return total;
  };
}

function wchar(pid: number): number {
  try {
    const m = /^wchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
