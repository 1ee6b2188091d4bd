import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createPipe } from '../../src/proc/index.js';
import { assertNoLeaks, LeakError, snapshotResources, withLeakCheck } from './leaks.js';

describe('leak checker', () => {
  test('names a leaked fd, child, handle and temp dir, and kills the child', async () => {
    const before = snapshotResources();
    const pipe = createPipe();
    const child = spawn('sleep', ['100'], { detached: true, stdio: 'ignore' });
    const exit = new Promise((r) => child.once('exit', (_c, s) => r(s)));
    const timer = setInterval(() => {}, 1000);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-leaktest-'));
    try {
      const error = await assertNoLeaks(before, { timeoutMs: 100 }).then(
        () => assert.fail('no leak reported'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof LeakError);
      const text = error.leaks.join('\n');
      assert.match(text, new RegExp(`${pipe.readFd} -> pipe:`));
      assert.match(text, new RegExp(`child ${child.pid} \\(sleep`));
      assert.match(text, /Timeout \+1/);
      assert.match(text, /ProcessWrap \+1/);
      assert.match(text, /sluice-leaktest-/);
      assert.equal(await exit, 'SIGKILL', 'the leaked child was killed');
    } finally {
      pipe.close();
      clearInterval(timer);
      rmSync(dir, { recursive: true, force: true });
    }
    await assertNoLeaks(before);
  });

  test('passes a body that cleans up after itself asynchronously', async () => {
    await withLeakCheck(async () => {
      const child = spawn('true', [], { stdio: 'ignore' });
      await new Promise((r) => child.once('spawn', r));
      // Returns before the child is reaped: the checker waits for it.
    })();
  });

  test('reports the body error when the body fails, and still cleans up', async () => {
    const before = snapshotResources();
    await assert.rejects(
      withLeakCheck(
        async () => {
          spawn('sleep', ['100'], { detached: true, stdio: 'ignore' });
          throw new Error('boom');
        },
        { timeoutMs: 100 },
      )(),
      /boom/,
    );
    await assertNoLeaks(before);
  });

  test('kills a leaked child that shares our process group without signalling the group', async () => {
    const before = snapshotResources();
    const child = spawn('sleep', ['100'], { stdio: 'ignore' }); // not detached: our group
    const exit = new Promise((r) => child.once('exit', (_c, s) => r(s)));
    await assert.rejects(assertNoLeaks(before, { timeoutMs: 50 }), LeakError);
    assert.equal(await exit, 'SIGKILL');
    await assertNoLeaks(before); // and we are still here to check
  });
});
