import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FlowStateError,
  InvalidOptionError,
  LimitManager,
  ManualTicker,
  MemoryRope,
  Topology,
} from '../../../../src/flow/index.js';
import { FakeStage } from '../fakes.js';

function rig() {
  const head = new FakeStage('head', 2);
  const mid = new FakeStage('mid', 1);
  const drum = new FakeStage('drum', 1);
  const t = new Topology().addStage('head', head).addStage('mid', mid).addStage('drum', drum);
  t.addEdge('head', 'mid').addEdge('mid', 'drum').freeze();
  const weights: number[] = [];
  const limits = new LimitManager({ applyWeight: (n) => weights.push(n), defaultWeight: 0 });
  let reading: { headroomBytes: number; limitBytes: number } | undefined = {
    headroomBytes: 10_000,
    limitBytes: 100_000,
  };
  const set = (r: typeof reading) => {
    reading = r;
  };
  const make = (extra = {}) =>
    new MemoryRope({
      topology: t,
      drum: 'drum',
      limits,
      intervalMs: 100,
      memory: () => reading,
      ...extra,
    });
  return { head, mid, drum, limits, weights, set, make };
}

describe('MemoryRope', () => {
  it('tightens at once and relaxes a quarter of the gap per tick', () => {
    const r = rig();
    r.mid.s.admittedWeight = 100;
    r.drum.s.admittedWeight = 5000; // the drum's own queue is outside the segment
    const rope = r.make();
    rope.tick();
    assert.equal(rope.stats().limitBytes, 4900); // 10,000 × 0.5 − 100
    r.set({ headroomBytes: 2000, limitBytes: 100_000 });
    rope.tick();
    assert.equal(rope.stats().limitBytes, 900); // tighter: at once
    r.set({ headroomBytes: 10_000, limitBytes: 100_000 });
    rope.tick();
    assert.equal(rope.stats().limitBytes, 1900); // 900 + 0.25 × (4900 − 900)
    rope.tick();
    assert.equal(rope.stats().limitBytes, 2650); // 1900 + 0.25 × 3000
    assert.deepEqual(r.weights, [4900, 900, 1900, 2650]);
    assert.equal(rope.stats().downstreamBytes, 100);
    assert.equal(rope.stats().targetBytes, 4900);
  });

  it('shares the head with other limits: the smallest wins, and no reading withdraws', () => {
    const r = rig();
    const rope = r.make();
    rope.tick();
    r.limits.proposeWeight('budget-allocator', 1500);
    assert.equal(r.limits.effective().weight, 1500);
    assert.equal(r.limits.effective().weightSource, 'budget-allocator');
    r.limits.withdraw('budget-allocator');
    assert.equal(r.limits.effective().weightSource, 'memory-rope');
    r.set(undefined);
    rope.tick();
    assert.equal(rope.stats().limitBytes, undefined);
    assert.equal(r.limits.effective().weightSource, 'default');
  });

  it('runs: adjusts at start and per tick, withdraws when stopped', async () => {
    const r = rig();
    const ticker = new ManualTicker();
    const rope = r.make({ ticker });
    const ac = new AbortController();
    const done = rope.run(ac.signal);
    assert.equal(r.limits.effective().weight, 5000);
    r.set({ headroomBytes: 4000, limitBytes: 100_000 });
    await ticker.tick();
    assert.equal(r.limits.effective().weight, 2000);
    await assert.rejects(rope.run(ac.signal), FlowStateError);
    ac.abort();
    await done;
    assert.equal(r.limits.effective().weightSource, 'default');
  });

  it('rejects bad options', () => {
    const r = rig();
    const isConfig = (option: string) => (e: unknown) =>
      e instanceof InvalidOptionError && e.option === option;
    assert.throws(() => r.make({ budgetFraction: 0 }), isConfig('budgetFraction'));
    assert.throws(() => r.make({ budgetFraction: 1.5 }), isConfig('budgetFraction'));
    assert.throws(() => r.make({ relaxRate: 0 }), isConfig('relaxRate'));
    assert.throws(() => r.make({ intervalMs: -1 }), isConfig('intervalMs'));
    assert.throws(() => r.make({ limits: undefined }), isConfig('limits'));
  });
});
