/**
 * Runs the two control examples as a user would (tsx, a child process each) with fewer items, and
 * checks what they must show. The full runs, whose figures docs/flow.md quotes, are
 * `npx tsx examples/drum-buffer-rope.ts` and `npx tsx examples/moving-constraint.ts`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withLeakCheck } from '../../helpers/leaks.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

async function example(file: string, env: Record<string, string>, args: string[] = []) {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', `examples/${file}`, '--json', ...args],
    { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('control examples', () => {
  // The examples make no temp files. Point the leak check's temp root at a private directory for
  // this (long) test, so temp entries made by unrelated test runs on a shared machine are not
  // blamed on it; children, fds and handles are still checked.
  const saved = process.env.TMPDIR;
  let privateTmp = '';
  before(() => {
    privateTmp = mkdtempSync(join(tmpdir(), 'sluice-ctlex-'));
    process.env.TMPDIR = privateTmp;
  });
  after(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(privateTmp, { recursive: true, force: true });
  });

  it(
    'drum-buffer-rope names transform and cuts WIP at the same pace; moving-constraint follows the drum',
    withLeakCheck(async () => {
      // Both run at once: they mostly sleep (sleep-timed stages), so they barely share the CPU.
      const [dbr, mc] = await Promise.all([
        example('drum-buffer-rope.ts', { DBR_ITEMS: '60' }),
        example('moving-constraint.ts', { MC_ITEMS: '2000', MC_STOP_AFTER_MOVE: '5' }, [
          '--only-autorope',
        ]),
      ]);

      const { free, roped, throughputRatio } = dbr;
      assert.equal(roped.drum, 'transform');
      assert.equal(free.peakInFlight, 60); // without limits every item gets in at once
      assert.ok(roped.peakInFlight <= 20, `roped peak ${roped.peakInFlight}`);
      assert.ok(roped.peakAfterRope <= roped.peakInFlight);
      // Generous margin: the machine is shared; the full run is measured in docs/flow.md.
      assert.ok(throughputRatio > 0.8, `throughput ratio ${throughputRatio}`);
      assert.match(roped.steps, /^identify.*→ exploit → subordinate/);

      const { good } = mc;
      assert.ok(good.migrations >= 1, `migrations ${good.migrations}`);
      assert.match(good.drums, /^- ×\d+ → embed ×\d+ → walk/);
      assert.match(good.steps, /elevate.*prevent-inertia/);
      assert.ok(good.embedWorkers >= 2, 'embed kept the workers it was given');
      assert.ok(good.aroundMove, 'windows on both sides of the move');
      assert.ok(
        good.aroundMove.after > 0.7 * good.aroundMove.before,
        `around the move: ${JSON.stringify(good.aroundMove)}`,
      );
    }),
  );
});
