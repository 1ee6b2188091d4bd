/**
 * Runs the two control examples as a user would (tsx, a child process each) and checks what they
 * must show: drum-buffer-rope with fewer items (its figures in docs/flow.md come from
 * `npx tsx examples/drum-buffer-rope.ts`), moving-constraint in full (it runs on simulated time,
 * so its output is the same on every run).
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
    'drum-buffer-rope names transform and cuts WIP at the same pace',
    withLeakCheck(async () => {
      const { free, roped, throughputRatio } = await example('drum-buffer-rope.ts', {
        DBR_ITEMS: '60',
      });
      assert.equal(roped.drum, 'transform');
      assert.equal(free.peakInFlight, 60); // without limits every item gets in at once
      assert.ok(roped.peakInFlight <= 20, `roped peak ${roped.peakInFlight}`);
      assert.ok(roped.peakAfterRope <= roped.peakInFlight);
      // Generous margin: the machine is shared; the full run is measured in docs/flow.md.
      assert.ok(throughputRatio > 0.8, `throughput ratio ${throughputRatio}`);
      assert.match(roped.steps, /^identify.*→ exploit → subordinate/);
    }),
  );

  it(
    'moving-constraint shows the drum moving from embed to walk, the same on every run',
    withLeakCheck(async () => {
      // Simulated time: two runs must print exactly the same, whatever the machine is doing.
      const [first, second] = await Promise.all([
        example('moving-constraint.ts', {}),
        example('moving-constraint.ts', {}),
      ]);
      assert.deepEqual(second, first);
      const { good, naive } = first;
      assert.equal(good.migrations, 1);
      assert.match(good.drums, /^- ×2 → embed ×\d+ → walk ×\d+$/);
      assert.match(good.steps, /elevate.*prevent-inertia/);
      assert.equal(good.embedWorkers, 4, 'embed kept the workers it was given');
      assert.deepEqual(
        good.phases.map((p: { name: string }) => p.name),
        ['embed drum, 1 worker', 'embed elevated', 'after the move'],
      );
      assert.ok(good.aroundMove, 'windows on both sides of the move');
      assert.ok(good.aroundMove.after >= good.aroundMove.before, JSON.stringify(good.aroundMove));
      // The naive rebalancer takes embed's workers: embed is the drum again, and the 3 windows
      // after the move are slower than the 3 before.
      assert.match(naive.drums, /→ walk ×\d+ → embed ×\d+$/);
      assert.ok(naive.aroundMove.after < naive.aroundMove.before, JSON.stringify(naive.aroundMove));
    }),
  );
});
