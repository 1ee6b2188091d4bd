import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  delta,
  FlowStateError,
  type IntervalStats,
  InvalidOptionError,
  LimitManager,
  ManualTicker,
  RopeController,
  type RopeControllerOptions,
  Topology,
  TopologyError,
} from '../../../../src/flow/index.js';
import { FakeClock, FakeStage, MemoryLogger, mkStats } from '../fakes.js';

/** An interval with the given fields (everything else zero). */
function iv(fields: Partial<IntervalStats>): IntervalStats {
  return { ...delta(mkStats(), mkStats(), 1000), ...fields };
}

/** head → [mid →] drum, with mutable admitted counts and hand-set snapshots. */
function rig(options: { mid?: boolean } = {}) {
  const admitted: Record<string, number> = { head: 0, mid: 0, drum: 0 };
  const snaps: Record<string, IntervalStats> = {};
  const t = new Topology();
  const names = options.mid ? ['head', 'mid', 'drum'] : ['head', 'drum'];
  for (const n of names) t.addStage(n, () => mkStats({ admitted: admitted[n] }));
  for (let i = 1; i < names.length; i++) t.addEdge(names[i - 1]!, names[i]!);
  t.freeze();
  const applied: number[] = [];
  const make = (extra: Partial<RopeControllerOptions> = {}) =>
    new RopeController({
      topology: t,
      drum: 'drum',
      setHeadWIP: (n) => {
        applied.push(n);
        return n;
      },
      snapshot: (name) => snaps[name] ?? iv({}),
      intervalMs: 100,
      ...extra,
    });
  return { t, admitted, snaps, applied, make };
}

describe('RopeController arithmetic', () => {
  it("sizes the seed's example: 50/s × 35 ms × 1.5 → 3", () => {
    const r = rig();
    r.snaps.drum = iv({ goodput: 50, itemsCompleted: 50 });
    r.snaps.head = iv({ itemsCompleted: 100, serviceTimeDeltaMs: 3000, outputBlockedDeltaMs: 500 });
    const rc = r.make();
    rc.tick();
    const s = rc.stats();
    assert.equal(s.ropeLength, 3);
    assert.deepEqual(r.applied, [3]);
    assert.equal(s.drumGoodput, 50);
    assert.equal(s.flowTimeMs, 35);
    assert.equal(s.headAppliedWIP, 3);
    assert.equal(s.warmedUp, true);
    assert.equal(s.adjustmentCount, 1);
    assert.deepEqual(rc.segment, { head: 'head', drum: 'drum', segment: ['head'] });
  });

  it('sums flow time over the segment and leaves the head what others do not hold', () => {
    const r = rig({ mid: true });
    r.snaps.drum = iv({ goodput: 50, itemsCompleted: 50 });
    r.snaps.head = iv({ itemsCompleted: 100, serviceTimeDeltaMs: 2000 }); // 20 ms
    r.snaps.mid = iv({ itemsCompleted: 100, serviceTimeDeltaMs: 1000, outputBlockedDeltaMs: 500 }); // 15 ms
    r.admitted.head = 1;
    r.admitted.mid = 2;
    r.admitted.drum = 9; // the drum's own queue is not part of the rope
    const rc = r.make();
    rc.tick();
    assert.equal(rc.stats().ropeLength, 3);
    assert.equal(rc.stats().ropeWIP, 3);
    assert.equal(rc.stats().ropeUtilization, 1);
    assert.deepEqual(r.applied, [1]); // 3 − 2 held by mid
    r.admitted.mid = 5;
    rc.tick();
    assert.deepEqual(r.applied, [1, 1]); // floor 1: a limit of 0 would mean no limit
  });

  it('smooths goodput and flow time with α = 0.3 and holds them through quiet intervals', () => {
    const r = rig();
    const rc = r.make();
    r.snaps.drum = iv({ goodput: 50, itemsCompleted: 50 });
    r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 350 }); // 35 ms
    rc.tick();
    assert.equal(rc.stats().ropeLength, 3);

    r.snaps.drum = iv({ goodput: 100, itemsCompleted: 100 });
    r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 700 }); // 70 ms
    rc.tick();
    assert.equal(rc.stats().drumGoodput, 65); // 0.3 × 100 + 0.7 × 50
    assert.equal(Math.round(rc.stats().flowTimeMs * 1000) / 1000, 45.5); // 0.3 × 70 + 0.7 × 35
    assert.equal(rc.stats().ropeLength, 5); // 65 × 0.0455 × 1.5 = 4.44

    r.snaps.drum = iv({}); // a quiet interval: nothing completed anywhere
    r.snaps.head = iv({});
    rc.tick();
    assert.equal(rc.stats().drumGoodput, 65);
    assert.equal(Math.round(rc.stats().flowTimeMs * 1000) / 1000, 45.5);
    assert.equal(rc.stats().ropeLength, 5);

    r.snaps.drum = iv({ goodput: 20, itemsCompleted: 20 });
    rc.tick();
    assert.equal(rc.stats().drumGoodput, 51.5); // 0.3 × 20 + 0.7 × 65
  });

  it('uses the initial length until the first goodput', () => {
    const r = rig();
    r.admitted.head = 0;
    const rc = r.make({ initialRopeLength: 4 });
    r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 100 });
    rc.tick();
    assert.equal(rc.stats().ropeLength, 4);
    assert.equal(rc.stats().warmedUp, false);
    // All failures: still no goodput, but the error rate is seeded.
    r.snaps.drum = iv({ itemsCompleted: 10, itemsFailed: 10, errorRate: 1 });
    rc.tick();
    assert.equal(rc.stats().ropeLength, 4);
    assert.equal(rc.stats().drumErrorRate, 1);
    // The first goodput seeds both averages.
    r.snaps.drum = iv({ goodput: 100, itemsCompleted: 100 });
    r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 100 }); // 10 ms
    rc.tick();
    assert.equal(rc.stats().warmedUp, true);
    assert.equal(rc.stats().drumErrorRate, 0);
    assert.equal(rc.stats().ropeLength, 2); // 100 × 0.01 × 1.5 = 1.5
    assert.deepEqual(r.applied, [4, 4, 2]);
  });

  it('caps the yield inflation at 10× and ropes to 1 at a 95% error rate', () => {
    const cases: Array<[number, number]> = [
      [0, 2], // 10/s × 100 ms × 1.5 = 1.5
      [0.5, 3], // 20/s
      [0.9, 15], // 100/s: exactly the cap
      [0.92, 15], // 125/s capped at 100/s
      [0.94, 15],
      [0.95, 1],
      [1, 1],
    ];
    for (const [errorRate, want] of cases) {
      const r = rig();
      r.snaps.drum = iv({ goodput: 10, itemsCompleted: 100, errorRate });
      r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 1000 }); // 100 ms
      const rc = r.make();
      rc.tick();
      assert.equal(rc.stats().ropeLength, want, `error rate ${errorRate}`);
    }
  });

  it('smooths the error rate into the cut-off', () => {
    const r = rig();
    r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 1000 });
    r.snaps.drum = iv({ goodput: 10, itemsCompleted: 100, errorRate: 0.9 });
    const rc = r.make();
    rc.tick();
    r.snaps.drum = iv({ goodput: 1, itemsCompleted: 100, errorRate: 1 });
    rc.tick();
    assert.equal(Math.round(rc.stats().drumErrorRate * 1000) / 1000, 0.93);
    assert.notEqual(rc.stats().ropeLength, 1);
    rc.tick();
    assert.equal(Math.round(rc.stats().drumErrorRate * 1000) / 1000, 0.951);
    assert.equal(rc.stats().ropeLength, 1);
  });

  it('honours the safety factor', () => {
    const r = rig();
    r.snaps.drum = iv({ goodput: 50, itemsCompleted: 50 });
    r.snaps.head = iv({ itemsCompleted: 100, serviceTimeDeltaMs: 3500 });
    const rc = r.make({ safetyFactor: 3 });
    rc.tick();
    assert.equal(rc.stats().ropeLength, 6); // 5.25 → 6
  });

  it('ceils the product as written on paper: 3/s × 100 ms × 10 is 3 (toc: 4, from float noise)', () => {
    const r = rig();
    r.snaps.drum = iv({ goodput: 3, itemsCompleted: 3 });
    r.snaps.head = iv({ itemsCompleted: 10, serviceTimeDeltaMs: 1000 });
    const rc = r.make({ safetyFactor: 10 });
    rc.tick();
    assert.equal(3 * 0.1 * 10 > 3, true, 'the float product is 3.0000000000000004');
    assert.equal(rc.stats().ropeLength, 3);
  });
});

describe('RopeController run and wiring', () => {
  it('applies the initial length at once, adjusts per tick, stops on abort', async () => {
    const clock = new FakeClock();
    const head = new FakeStage('head', 4);
    const drum = new FakeStage('drum', 1);
    const t = new Topology().addStage('head', head).addStage('drum', drum);
    t.addEdge('head', 'drum').freeze();
    const ticker = new ManualTicker();
    const logger = new MemoryLogger();
    const rc = new RopeController({
      topology: t,
      drum: 'drum',
      intervalMs: 100,
      ticker,
      logger,
      now: clock.now,
    });
    const ac = new AbortController();
    const done = rc.run(ac.signal);
    assert.deepEqual(head.maxWIPCalls, [1]); // initialRopeLength, before any tick

    // One second: the drum completes 50 items; the head spends 35 ms per item.
    clock.advance(1000);
    drum.advance(1000, { busy: 1, completed: 50 });
    // Head: 0.4375 × 1000 ms × 4 workers = 1750 ms in fn, 1750 ms blocked, over 100 items = 35 ms.
    head.advance(1000, { busy: 0.4375, completed: 100 });
    head.s.outputBlockedTimeMs += 1750;
    await ticker.tick();
    assert.equal(rc.stats().drumGoodput, 50);
    assert.equal(rc.stats().ropeLength, 3);
    assert.deepEqual(head.maxWIPCalls, [1, 3]);
    assert.match(logger.messages('info').at(-1)!, /^rope drum: length=3 wip=0 head head=3$/);

    await ticker.tick(); // nothing changed: same length, no new log line
    assert.equal(logger.messages().length, 2);
    await assert.rejects(rc.run(ac.signal), FlowStateError);
    ac.abort();
    await done;
    assert.equal(ticker.active, false);
  });

  it('logs a failing tick and keeps going', async () => {
    let fail = true;
    const t = new Topology()
      .addStage('head', () => {
        if (fail) throw new Error('stats unavailable');
        return mkStats();
      })
      .addStage('drum', () => mkStats())
      .addEdge('head', 'drum')
      .freeze();
    const ticker = new ManualTicker();
    const logger = new MemoryLogger();
    const applied: number[] = [];
    const rc = new RopeController({
      topology: t,
      drum: 'drum',
      intervalMs: 100,
      ticker,
      logger,
      setHeadWIP: (n) => applied.push(n),
      snapshot: () => iv({}),
    });
    const ac = new AbortController();
    const done = rc.run(ac.signal);
    assert.deepEqual(logger.messages('error'), ['rope drum: start failed']);
    await ticker.tick();
    assert.deepEqual(logger.messages('error'), [
      'rope drum: start failed',
      'rope drum: tick failed',
    ]);
    fail = false;
    await ticker.tick();
    assert.deepEqual(applied, [1]);
    ac.abort();
    await done;
  });

  it('returns at once for an aborted signal', async () => {
    const r = rig();
    await r.make({ ticker: new ManualTicker() }).run(AbortSignal.abort());
    assert.deepEqual(r.applied, []);
  });

  it('proposes through a LimitManager, where a tighter source wins', () => {
    const r = rig();
    const head = new FakeStage('head', 4);
    const lm = new LimitManager({ applyCount: (n) => head.setMaxWIP(n), defaultCount: 20 });
    r.snaps.drum = iv({ goodput: 50, itemsCompleted: 50 });
    r.snaps.head = iv({ itemsCompleted: 100, serviceTimeDeltaMs: 3500 });
    const rc = r.make({ setHeadWIP: lm.proposer('processing-rope') });
    rc.tick();
    assert.equal(head.s.maxWIP, 3);
    lm.proposeCount('memory-rope', 2);
    assert.equal(head.s.maxWIP, 2);
    rc.tick();
    assert.equal(head.s.maxWIP, 2);
    lm.withdraw('memory-rope');
    assert.equal(head.s.maxWIP, 3);
    lm.withdraw('processing-rope');
    assert.equal(head.s.maxWIP, 20);
  });

  it('rejects misconfiguration at construction', () => {
    const r = rig();
    const opts = { topology: r.t, drum: 'drum', setHeadWIP: () => 1, intervalMs: 100 };
    const unfrozen = new Topology().addStage('a', () => mkStats());
    const isConfig = (option: string) => (e: unknown) =>
      e instanceof InvalidOptionError &&
      e.option === option &&
      e.code === 'ERR_SLUICE_INVALID_OPTION';
    assert.throws(() => new RopeController({ ...opts, topology: unfrozen }), TopologyError);
    assert.throws(() => new RopeController({ ...opts, drum: 'nope' }), /unknown stage "nope"/);
    assert.throws(() => new RopeController({ ...opts, drum: 'head' }), /is a head/);
    assert.throws(() => new RopeController({ ...opts, intervalMs: 0 }), isConfig('intervalMs'));
    assert.throws(
      () => new RopeController({ ...opts, safetyFactor: -1 }),
      isConfig('safetyFactor'),
    );
    assert.throws(
      () => new RopeController({ ...opts, initialRopeLength: 0 }),
      isConfig('initialRopeLength'),
    );
    assert.throws(
      () => new RopeController({ ...opts, initialRopeLength: 1.5 }),
      isConfig('initialRopeLength'),
    );
    // A bare stats accessor as head and no setHeadWIP: nothing to set.
    assert.throws(
      () => new RopeController({ topology: r.t, drum: 'drum', intervalMs: 100 }),
      isConfig('setHeadWIP'),
    );
    assert.throws(
      () => new RopeController(undefined as unknown as RopeControllerOptions),
      InvalidOptionError,
    );
  });
});

describe('LimitManager', () => {
  it('applies the smallest proposal, reports its source, and restores the default', () => {
    const calls: number[] = [];
    const lm = new LimitManager({ applyCount: (n) => calls.push(n), defaultCount: 10 });
    assert.equal(lm.effective().countSource, 'default');
    lm.proposeCount('rope', 6);
    lm.proposeCount('memory-rope', 4);
    lm.proposeCount('budget', 4);
    let e = lm.effective();
    assert.equal(e.count, 4);
    assert.equal(e.countSource, 'memory-rope'); // a tie goes to the earlier proposer
    assert.deepEqual(e.countProposals, { rope: 6, 'memory-rope': 4, budget: 4 });
    lm.withdrawCount('memory-rope');
    assert.equal(lm.effective().countSource, 'budget');
    lm.withdraw('budget');
    lm.withdraw('rope');
    e = lm.effective();
    assert.equal(e.count, 10);
    assert.equal(e.countSource, 'default');
    assert.deepEqual(calls, [6, 4, 6, 10]); // applied only when the effective limit changes
  });

  it('keeps counts and weights apart and reports what the stage applied', () => {
    const lm = new LimitManager({
      applyCount: (n) => Math.min(n, 5), // the stage clamps
      applyWeight: (n) => n,
    });
    assert.equal(lm.proposeCount('rope', 8), 5);
    assert.equal(lm.effective().appliedCount, 5);
    assert.equal(lm.proposeWeight('memory-rope', 4096), 4096);
    assert.equal(lm.effective().count, 8);
    assert.equal(lm.effective().weight, 4096);
    lm.withdrawWeight('memory-rope');
    assert.equal(lm.effective().weight, undefined);
  });

  it('hands out handles that close for good', () => {
    const lm = new LimitManager({ defaultCount: 9 });
    const h = lm.register('memory-rope');
    h.proposeCount(3);
    assert.equal(lm.effective().count, 3);
    h.close();
    assert.equal(lm.effective().count, 9);
    assert.throws(() => h.proposeCount(2), /limit handle "memory-rope" is closed/);
  });

  it('builds from a stage and rejects bad proposals', () => {
    const stage = new FakeStage('s', 2, 6);
    const lm = LimitManager.forStage({
      setMaxWIP: (n) => stage.setMaxWIP(n),
      setMaxWIPWeight: (n) => n,
      stats: () => stage.stats(),
    });
    assert.equal(lm.effective().count, 8);
    lm.proposeCount('rope', 2);
    assert.equal(stage.s.maxWIP, 2);
    lm.withdraw('rope');
    assert.equal(stage.s.maxWIP, 8);
    assert.throws(() => lm.proposeCount('rope', 0), InvalidOptionError);
    assert.throws(() => lm.proposeCount('rope', 2.5), InvalidOptionError);
    assert.throws(() => lm.proposeWeight('rope', -1), InvalidOptionError);
    assert.throws(() => lm.proposeCount('default', 2), /other than "default"/);
    assert.throws(() => lm.proposeCount('', 2), InvalidOptionError);
    assert.throws(() => new LimitManager({ defaultCount: 0 }), InvalidOptionError);
  });

  it('always applies the smallest live proposal, or the default (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('propose' as const),
        source: fc.constantFrom('a', 'b', 'c'),
        n: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({ kind: fc.constant('withdraw' as const), source: fc.constantFrom('a', 'b', 'c') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        let applied = 30;
        const lm = new LimitManager({ applyCount: (n) => (applied = n), defaultCount: 30 });
        const live = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'propose') {
            lm.proposeCount(o.source, o.n);
            live.set(o.source, o.n);
          } else {
            lm.withdrawCount(o.source);
            live.delete(o.source);
          }
          const want = live.size > 0 ? Math.min(...live.values()) : 30;
          assert.equal(lm.effective().count, want);
          assert.equal(applied, want);
        }
      }),
      { numRuns: 300 },
    );
  });
});
