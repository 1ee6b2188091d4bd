import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClosedError,
  StoppingError,
  start,
  WeightExceedsLimitError,
} from '../../../src/flow/index.js';
import { InvalidOptionError } from '../../../src/proc/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { assertFinalInvariants, collect, gate, isSettled, settle, show } from './stage-helpers.js';

describe('flow rope: maxWIP', () => {
  test(
    'maxWIP bounds admitted items; a permit is held until the result is taken',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { capacity: 10, workers: 2, maxWIP: 3 });
      assert.equal(stage.stats().maxWIP, 3);
      for (let i = 0; i < 3; i++) await stage.submit(i);
      const fourth = stage.submit(3);
      assert.equal(await isSettled(fourth), false);
      assert.equal(stage.stats().admitted, 3);
      g.release(0);
      await settle();
      assert.equal(await isSettled(fourth), false, 'result not taken yet: permit still held');
      const it = stage.out();
      assert.deepEqual(show([(await it.next()).value!]), ['0']);
      await fourth;
      assert.equal(stage.stats().admitted, 3);
      stage.closeInput();
      const rest = collect(it);
      for (let i = 0; i < 5; i++) {
        g.releaseAll();
        await settle(1);
      }
      assert.equal((await rest).length, 3);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );

  test('setMaxWIP clamps to [1, capacity + workers], returns the applied value, and follows setWorkers', () => {
    const stage = start((x: number) => x, { capacity: 4, workers: 2 });
    assert.equal(stage.stats().maxWIP, 6);
    assert.equal(stage.setMaxWIP(0), 1);
    assert.equal(stage.setMaxWIP(100), 6);
    assert.equal(stage.setMaxWIP(3), 3);
    stage.setWorkers(1);
    assert.equal(stage.stats().maxWIP, 3);
    assert.equal(stage.setMaxWIP(9), 5);
    stage.setWorkers(8);
    assert.equal(stage.stats().maxWIP, 9, 'the asked-for value comes back when the ceiling rises');
    const dflt = start((x: number) => x, { capacity: 1 });
    dflt.setWorkers(3);
    assert.equal(dflt.stats().maxWIP, 4, 'the default follows the ceiling');
    assert.equal(start((x: number) => x, { capacity: 1, maxWIP: 50 }).stats().maxWIP, 2);
    stage.closeInput();
    dflt.closeInput();
  });

  test(
    'raising maxWIP admits waiters at once; lowering it revokes nothing',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { capacity: 4, maxWIP: 1 });
      await stage.submit(0);
      const w1 = stage.submit(1);
      const w2 = stage.submit(2);
      await settle();
      assert.equal(stage.stats().waiterCount, 2);
      stage.setMaxWIP(3);
      await w1;
      await w2;
      assert.equal(stage.stats().admitted, 3);
      stage.setMaxWIP(1);
      assert.equal(stage.stats().admitted, 3, 'existing permits are kept');
      stage.closeInput();
      const all = collect(stage);
      for (let i = 0; i < 4; i++) {
        g.releaseAll();
        await settle(1);
      }
      assert.deepEqual(show(await all), ['0', '1', '2']);
    }),
  );
});

describe('flow rope: weight', () => {
  test(
    'pinned: weight head-of-line blocking — a light item waits behind a heavy one',
    withLeakCheck(async () => {
      const g = gate((x: { id: string; w: number }) => x.id);
      const stage = start(g.fn, {
        capacity: 10,
        maxWIPWeight: 10,
        weight: (x) => x.w,
      });
      await stage.submit({ id: 'a', w: 6 });
      const heavy = stage.submit({ id: 'b', w: 6 });
      const light = stage.submit({ id: 'c', w: 1 });
      await settle();
      assert.equal(await isSettled(light), false, 'c would fit but must not jump the line');
      assert.equal(stage.stats().admittedWeight, 6);
      assert.equal(stage.stats().inFlightWeight, 6);
      g.release(g.calls[0]!.item);
      const it = stage.out();
      await it.next();
      await heavy;
      await light;
      assert.equal(stage.stats().admittedWeight, 7);
      await assert.rejects(stage.submit({ id: 'd', w: 11 }), WeightExceedsLimitError);
      await assert.rejects(stage.submit({ id: 'e', w: -1 }), InvalidOptionError);
      stage.closeInput();
      const rest = collect(it);
      for (let i = 0; i < 4; i++) {
        g.releaseAll();
        await settle(1);
      }
      assert.deepEqual(show(await rest), ['"b"', '"c"']);
      assertFinalInvariants(stage.stats());
    }),
  );

  test(
    'setMaxWIPWeight: 0 turns it off, negatives clamp, waiters heavier than a new limit are rejected',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { capacity: 10, maxWIPWeight: 10, weight: (x) => x });
      await stage.submit(8);
      const nine = stage.submit(9);
      await settle();
      assert.equal(stage.setMaxWIPWeight(5), 5);
      await assert.rejects(nine, WeightExceedsLimitError);
      assert.equal(stage.setMaxWIPWeight(-3), 0);
      await stage.submit(100);
      assert.equal(stage.stats().maxWIPWeight, 0);
      stage.closeInput();
      const all = collect(stage);
      for (let i = 0; i < 4; i++) {
        g.releaseAll();
        await settle(1);
      }
      assert.deepEqual(show(await all), ['8', '100']);
    }),
  );
});

describe('flow rope: pause', () => {
  test(
    'pinned: pause while waiters queue — held, not rejected; resume admits them in FIFO order',
    withLeakCheck(async () => {
      const stage = start((x: number) => x, { capacity: 1 });
      await stage.submit(0);
      await stage.submit(1);
      const order: number[] = [];
      const w2 = stage.submit(2).then(() => order.push(2));
      stage.pauseAdmission();
      assert.equal(stage.stats().paused, true);
      const w3 = stage.submit(3).then(() => order.push(3));
      const it = stage.out();
      assert.deepEqual(show([(await it.next()).value!, (await it.next()).value!]), ['0', '1']);
      await settle();
      assert.deepEqual(order, [], 'room freed, but admission is paused');
      assert.equal(stage.stats().waiterCount, 2);
      stage.resumeAdmission();
      stage.resumeAdmission();
      const more = collect(it);
      await w2;
      await w3;
      assert.deepEqual(order, [2, 3]);
      stage.closeInput();
      assert.deepEqual(show(await more), ['2', '3']);
    }),
  );

  test(
    'closeInput while paused rejects the held waiters with ClosedError',
    withLeakCheck(async () => {
      const stage = start((x: number) => x);
      stage.pauseAdmission();
      const a = stage.submit(1);
      const b = stage.submit(2);
      stage.closeInput();
      await assert.rejects(a, ClosedError);
      await assert.rejects(b, ClosedError);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );
});

describe('flow rope: setWorkers', () => {
  test(
    'pinned: setWorkers down while busy — the newest retire after their result is taken and start nothing new',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { workers: 3, capacity: 10 });
      for (let i = 0; i < 6; i++) await stage.submit(i);
      await settle();
      assert.deepEqual(
        g.calls.map((c) => c.item),
        [0, 1, 2],
      );
      assert.equal(stage.setWorkers(1), 1);
      let s = stage.stats();
      assert.equal(s.targetWorkers, 1);
      assert.equal(s.activeWorkers, 3, 'busy workers finish their item first');
      assert.equal(s.maxWIP, 11);
      const it = stage.out();
      g.release(2);
      await settle();
      assert.deepEqual(show([(await it.next()).value!]), ['2']);
      assert.equal(stage.stats().activeWorkers, 2, 'the newest worker retired');
      assert.equal(g.calls.length, 3, 'a retiring worker starts no new item');
      g.release(1);
      await settle();
      assert.deepEqual(show([(await it.next()).value!]), ['1']);
      assert.equal(stage.stats().activeWorkers, 1);
      assert.equal(g.calls.length, 3);
      g.release(0);
      assert.deepEqual(show([(await it.next()).value!]), ['0']);
      await settle();
      assert.equal(g.calls.length, 4, 'the oldest worker goes on');
      stage.closeInput();
      const rest = collect(it);
      for (let i = 0; i < 6; i++) {
        g.releaseAll();
        await settle(1);
      }
      assert.deepEqual(show(await rest), ['3', '4', '5']);
      assert.equal(g.maxRunning, 3);
      s = stage.stats();
      assertFinalInvariants(s);
    }),
  );

  test(
    'setWorkers up starts workers at once; StoppingError once aborted',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { workers: 1, capacity: 10 });
      for (let i = 0; i < 4; i++) await stage.submit(i);
      await settle();
      assert.equal(g.running, 1);
      stage.setWorkers(3);
      await settle();
      assert.equal(g.running, 3);
      assert.equal(stage.stats().activeWorkers, 3);
      stage.closeInput();
      stage.setWorkers(4); // still allowed while draining
      const all = collect(stage);
      for (let i = 0; i < 4; i++) {
        g.releaseAll();
        await settle(1);
      }
      assert.equal((await all).length, 4);
      await stage.wait();
      assert.throws(() => stage.setWorkers(2), StoppingError);
      const ac = new AbortController();
      const other = start((x: number) => x, { signal: ac.signal });
      ac.abort();
      assert.throws(() => other.setWorkers(2), StoppingError);
    }),
  );
});

describe('flow stats', () => {
  test(
    'service-time histogram: p50/p95/p99, min, max, mean, stddev when trackServiceTime is on',
    withLeakCheck(async () => {
      const stage = start(
        async (ms: number) => {
          await new Promise((r) => setTimeout(r, ms));
          return ms;
        },
        { trackServiceTime: true, capacity: 8, workers: 4 },
      );
      for (const ms of [1, 2, 3, 4, 5, 6, 7, 8]) await stage.submit(ms);
      stage.closeInput();
      await stage.discardAndWait();
      const s = stage.stats();
      const d = s.serviceTimeDist!;
      assert.equal(d.count + d.underflow + d.overflow, 8);
      assert.ok(d.minMs >= 0.9 && d.minMs <= d.p50Ms, `min ${d.minMs}`);
      assert.ok(d.p50Ms <= d.p95Ms && d.p95Ms <= d.p99Ms && d.p99Ms <= d.maxMs * 1.01);
      assert.ok(d.maxMs >= 7.9, `max ${d.maxMs}`);
      assert.ok(Math.abs(d.meanMs * d.count - s.serviceTimeMs) < s.serviceTimeMs * 0.05);
      assert.ok(d.stdDevMs > 0);
      assert.ok(s.serviceTimeMs >= 36 * 0.99);
      assertFinalInvariants(s);
      assert.equal(start((x: number) => x).stats().serviceTimeDist, undefined);
    }),
  );

  test(
    'idle and output-blocked time are measured per worker',
    withLeakCheck(async () => {
      const stage = start((x: number) => x, { capacity: 1 });
      await stage.submit(1);
      await new Promise((r) => setTimeout(r, 20));
      const it = stage.out();
      await it.next();
      assert.ok(stage.stats().outputBlockedTimeMs >= 15, 'result waited ~20 ms for a reader');
      await new Promise((r) => setTimeout(r, 20));
      stage.closeInput();
      await stage.wait();
      assert.ok(stage.stats().idleTimeMs >= 15, 'worker idled ~20 ms');
    }),
  );
});

describe('flow stats: timing policy', () => {
  test(
    'a slow synchronous fn is timed on every call',
    withLeakCheck(async () => {
      let inner = 0;
      const spin = (ms: number) => {
        const t0 = performance.now();
        const end = t0 + ms;
        while (performance.now() < end) {
          // busy: a CPU-bound synchronous fn
        }
        inner += performance.now() - t0;
        return ms;
      };
      const stage = start(spin, { capacity: 40 });
      // Uneven calls: an estimate from samples would not add up to the measured sum.
      for (let i = 0; i < 40; i++) await stage.submit(i % 8 === 0 ? 2 : 0.1);
      stage.closeInput();
      await stage.discardAndWait();
      const s = stage.stats();
      assert.ok(s.serviceTimeMs >= inner, `serviceTimeMs ${s.serviceTimeMs} < measured ${inner}`);
      assert.ok(
        s.serviceTimeMs < inner + 40,
        `serviceTimeMs ${s.serviceTimeMs}, measured ${inner}`,
      );
    }),
  );

  test(
    'a slow async fn is timed on every call, like a slow synchronous one',
    withLeakCheck(async () => {
      let inner = 0;
      const work = async (ms: number) => {
        const t0 = performance.now();
        while (performance.now() - t0 < ms) await new Promise<void>((r) => setImmediate(r));
        inner += performance.now() - t0;
        return ms;
      };
      const stage = start(work, { capacity: 40 });
      // Past the 16 warm-up calls, and uneven: an estimate from samples would not add up.
      for (let i = 0; i < 40; i++) await stage.submit(i % 8 === 0 ? 2 : 0.2);
      stage.closeInput();
      await stage.discardAndWait();
      const s = stage.stats();
      assert.ok(s.serviceTimeMs >= inner, `serviceTimeMs ${s.serviceTimeMs} < measured ${inner}`);
      assert.ok(
        s.serviceTimeMs < inner + 40,
        `serviceTimeMs ${s.serviceTimeMs}, measured ${inner}`,
      );
    }),
  );

  test(
    'a fast synchronous fn is sampled: times stay plausible and finite',
    withLeakCheck(async () => {
      const stage = start((x: number) => x, { capacity: 64 });
      const producer = (async () => {
        for (let i = 0; i < 5000; i++) await stage.submit(i);
        stage.closeInput();
      })();
      let n = 0;
      for await (const _ of stage) n++;
      await producer;
      await stage.wait();
      const s = stage.stats();
      assert.equal(n, 5000);
      for (const k of ['serviceTimeMs', 'idleTimeMs', 'outputBlockedTimeMs'] as const) {
        assert.ok(Number.isFinite(s[k]) && s[k] >= 0, `${k} = ${s[k]}`);
      }
      assert.ok(s.serviceTimeMs > 0);
      assertFinalInvariants(s);
    }),
  );
});

describe('flow stats: an injected clock', () => {
  test(
    'the stage measures service time, idle time and the histogram with options.clock',
    withLeakCheck(async () => {
      let now = 1000;
      const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
      const stage = start(
        (x: number) => {
          now += 5; // each call takes 5 ms on the fake clock
          return x;
        },
        { clock, trackServiceTime: true, capacity: 10 },
      );
      for (let i = 0; i < 10; i++) await stage.submit(i);
      stage.closeInput();
      await stage.discardAndWait();
      const s = stage.stats();
      assert.equal(s.serviceTimeMs, 50);
      const p50 = s.serviceTimeDist?.p50Ms ?? 0;
      assert.ok(Math.abs(p50 - 5) < 0.05, `p50 ${p50} (the histogram keeps ~1%)`);
      assert.equal(s.idleTimeMs, 0, 'no fake time passed outside fn');
      assert.throws(() => start((x: number) => x, { clock: {} as never }), InvalidOptionError);
    }),
  );

  test(
    'with trackServiceTime, service time is the exact sum over many fast and slow calls (no estimate added)',
    withLeakCheck(async () => {
      let now = 0;
      const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
      // 2,000 fast calls (10 µs: past the warm-up, so the running mean is sampled), then 100 slow
      // ones (1 ms: the slow window opens), then fast ones again.
      const cost = (i: number) => (i >= 2000 && i < 2100 ? 1 : 0.01);
      const stage = start(
        async (i: number) => {
          now += cost(i);
          return i;
        },
        { clock, trackServiceTime: true, capacity: 16 },
      );
      let expected = 0;
      const producer = (async () => {
        for (let i = 0; i < 3000; i++) {
          expected += cost(i);
          await stage.submit(i);
        }
        stage.closeInput();
      })();
      let taken = 0;
      for await (const r of stage) if (r.ok) taken++;
      await producer;
      await stage.wait();
      const s = stage.stats();
      assert.equal(taken, 3000);
      assert.ok(Math.abs(s.serviceTimeMs - expected) < 1e-6, `${s.serviceTimeMs} vs ${expected}`);
      const d = s.serviceTimeDist!;
      assert.equal(d.count + d.underflow + d.overflow, 3000);
      assert.ok(Math.abs(d.maxMs - 1) < 0.02 && Math.abs(d.p50Ms - 0.01) < 0.0002, `${d.p50Ms}`);
    }),
  );
});
