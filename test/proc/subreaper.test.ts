import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  adoptedChildren,
  endAdopted,
  InvalidOptionError,
  pipeBackend,
  reapAdopted,
  reapAdoptedEvery,
} from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const fixture = fileURLToPath(new URL('./fixtures/subreaper.ts', import.meta.url));
const supported = process.platform === 'linux' && pipeBackend() === 'pipe2';

describe('proc: child subreaper', () => {
  test(
    'orphans come back to a subreaper, which reaps and ends only them, never a child Node spawned',
    { skip: supported ? false : 'needs Linux and koffi' },
    withLeakCheck(async () => {
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', fixture],
          { timeout: 60_000 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error}\n${stderr}`)) : resolve(stdout),
        );
      });
      const r = JSON.parse(out);
      assert.equal(r.before, false);
      assert.equal(r.became, true);
      assert.equal(r.after, true);
      assert.equal(r.adopted, true, 'both orphans were re-parented to the subreaper');
      assert.equal(r.ownListed, false, "Node's own child is not adopted");
      assert.equal(r.ownExcluded, false, 'isOwn keeps a child out');
      assert.deepEqual(
        r.reaped.map((x: { exitCode: number; signal: string | null }) => [x.exitCode, x.signal]),
        [[7, null]],
      );
      assert.equal(r.quitterGone, true);
      assert.deepEqual(
        r.ended.map((x: { exitCode: number; signal: string | null }) => [x.exitCode, x.signal]),
        [[null, 'SIGTERM']],
      );
      assert.equal(r.sleeperGone, true);
      assert.equal(r.ownRunning, true, "Node's own child was left alone");
      assert.deepEqual(r.ownExit, [null, 'SIGTERM'], 'Node still reaped its own child');
      assert.equal(r.zombies, 0);
    }),
  );

  test('without becoming a subreaper nothing is adopted; bad options are typed errors', async () => {
    assert.deepEqual(adoptedChildren(), []);
    assert.deepEqual(reapAdopted(), []);
    assert.deepEqual(await endAdopted(), []);
    await assert.rejects(endAdopted(undefined, { graceMs: -1 }), InvalidOptionError);
    assert.throws(() => reapAdoptedEvery(0), InvalidOptionError);
    reapAdoptedEvery(1000).stop();
  });
});
