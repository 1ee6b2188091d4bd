import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AutoRope,
  type AutoRopeOptions,
  autoRope,
  FlowStateError,
  InvalidOptionError,
  ManualTicker,
  Topology,
  TopologyError,
  type WindowRecord,
} from '../../../../src/flow/index.js';
import { FakeClock, FakeStage, MemoryLogger, mkStats, type WindowWork } from '../fakes.js';

const IDLE: WindowWork = { busy: 0.1, idle: 0.9, completed: 5 };
const SAT: WindowWork = { busy: 0.97, idle: 0.01, completed: 5 };
const CALM: WindowWork = { busy: 0.5, idle: 0.4, completed: 5 };

/** A chain of fake stages, a clock and a manual ticker. */
function chain(spec: Array<[string, number]>) {
  const stages = new Map(spec.map(([n, w]) => [n, new FakeStage(n, w)] as const));
  const t = new Topology();
  for (const [n, s] of stages) t.addStage(n, s);
  for (let i = 1; i < spec.length; i++) t.addEdge(spec[i - 1]![0], spec[i]![0]);
  t.freeze();
  const clock = new FakeClock();
  const ticker = new ManualTicker();
  const logger = new MemoryLogger();
  const records: WindowRecord[] = [];
  const get = (n: string) => stages.get(n)!;
  /** One window of 100 ms in which each named stage does the given work. */
  const window = async (work: Record<string, WindowWork>) => {
    clock.advance(100);
    for (const [n, w] of Object.entries(work)) get(n).advance(100, w);
    await ticker.tick();
    return records.at(-1)!;
  };
  const start = (extra: Partial<AutoRopeOptions> = {}) => {
    const ac = new AbortController();
    const auto = autoRope({
      topology: t,
      intervalMs: 100,
      ticker,
      logger,
      now: clock.now,
      signal: ac.signal,
      onWindow: (r) => records.push(r),
      ...extra,
    });
    const stop = async () => {
      ac.abort();
      await auto.done;
    };
    return { auto, stop };
  };
  return { t, get, window, start, logger, records };
}

describe('autoRope finds the drum and ropes it', () => {
  it('caps heads while looking, then ropes the confirmed drum', async () => {
    const c = chain([
      ['head', 4],
      ['drum', 1],
      ['tail', 1],
    ]);
    const { auto, stop } = c.start();
    // Discovery cap: 2 × (4 + 1 + 1) workers, applied before the first window.
    assert.deepEqual(c.get('head').maxWIPCalls, [12]);
    const work = { head: IDLE, drum: SAT, tail: IDLE };

    let r = await c.window(work);
    assert.equal(r.step, 'identify');
    assert.equal(r.drum, undefined);
    r = await c.window(work);
    assert.equal(r.step, 'identify');

    r = await c.window(work);
    assert.equal(r.constraint, 'drum');
    assert.deepEqual(r.reroped, { from: undefined, to: 'drum' });
    assert.equal(r.step, 'exploit'); // the window began with the drum unroped
    // Goodput 50/s; head flow 4 workers × 10 ms / 5 items = 8 ms; 50 × 0.008 × 1.5 = 0.6 → 1.
    assert.equal(r.ropeLength, 1);
    assert.equal(r.headLimit, 1);
    assert.deepEqual(c.get('head').maxWIPCalls, [12, 1]);
    assert.deepEqual(auto.limits('head')!.effective().countProposals, { 'processing-rope': 1 });

    r = await c.window(work);
    assert.equal(r.step, 'subordinate');
    assert.equal(auto.stats().drum, 'drum');
    assert.equal(auto.stats().migrations, 0);
    assert.equal(auto.stats().windows, 4);
    assert.equal(auto.history().length, 4);
    assert.ok(
      c.logger.messages('info').some((m) => /drum is drum; rope from head length=1/.test(m)),
    );
    await stop();
  });

  it('reports exploit while the drum starves', async () => {
    const c = chain([
      ['head', 2],
      ['drum', 1],
    ]);
    const { stop } = c.start();
    for (let i = 0; i < 4; i++) await c.window({ head: IDLE, drum: SAT });
    const r = await c.window({ head: IDLE, drum: { busy: 0.2, idle: 0.8, completed: 1 } });
    assert.equal(r.constraint, 'drum');
    assert.equal(r.states.drum, 'starved');
    assert.equal(r.step, 'exploit');
    await stop();
  });

  it('leaves heads unlimited meanwhile with discoveryWIP: false', async () => {
    const c = chain([
      ['head', 4],
      ['drum', 1],
    ]);
    const { stop } = c.start({ discoveryWIP: false });
    assert.deepEqual(c.get('head').maxWIPCalls, []);
    await stop();
  });

  it('warns and keeps the discovery cap when the drum cannot be roped', async () => {
    const t = new Topology();
    const a = new FakeStage('a', 2);
    const b = new FakeStage('b', 1);
    const x = new FakeStage('x', 1);
    t.addStage('a', a)
      .addStage('b', b)
      .addStage('x', x)
      .addEdge('a', 'b')
      .addEdge('a', 'x')
      .freeze();
    const logger = new MemoryLogger();
    const clock = new FakeClock();
    const auto = new AutoRope({
      topology: t,
      intervalMs: 100,
      logger,
      now: clock.now,
      ticker: new ManualTicker(),
    });
    const ac = new AbortController();
    const done = auto.run(ac.signal);
    let r: WindowRecord | undefined;
    for (let i = 0; i < 4; i++) {
      clock.advance(100);
      a.advance(100, IDLE);
      b.advance(100, SAT);
      x.advance(100, IDLE);
      r = auto.tick();
    }
    assert.equal(r!.constraint, 'b');
    assert.equal(r!.drum, undefined);
    assert.equal(r!.step, 'exploit');
    assert.deepEqual(a.maxWIPCalls, [8]); // 2 × (2 + 1 + 1), never replaced
    assert.equal(logger.messages('warn').length, 1);
    assert.match(logger.messages('warn')[0]!, /cannot rope b/);
    ac.abort();
    await done;
  });
});

describe('autoRope follows a moving constraint', () => {
  const elevate = { maxWorkers: 2, cooldownWindows: 2, fromDonors: true };

  it('re-ropes for the new drum and elevates it without stealing from the old one', async () => {
    const c = chain([
      ['head', 4],
      ['walk', 1],
      ['embed', 1],
      ['store', 1],
    ]);
    const { auto, stop } = c.start({ elevate: { ...elevate, protectWindows: 10 } });
    const phase1 = { head: IDLE, walk: CALM, embed: SAT, store: IDLE };
    const phase2 = { head: IDLE, walk: SAT, embed: CALM, store: IDLE };
    const steps: string[] = [];
    for (let i = 0; i < 6; i++) steps.push((await c.window(phase1)).step);
    assert.deepEqual(steps, [
      'identify',
      'identify',
      'exploit',
      'subordinate',
      'elevate',
      'subordinate',
    ]);
    assert.deepEqual(auto.stats().elevations, [
      { window: 5, stage: 'embed', workers: 2, donor: 'head' },
    ]);

    const moved: WindowRecord[] = [];
    for (let i = 0; i < 6; i++) moved.push(await c.window(phase2));
    assert.deepEqual(
      moved.map((r) => r.step),
      ['subordinate', 'subordinate', 'prevent-inertia', 'subordinate', 'elevate', 'subordinate'],
    );
    assert.deepEqual(moved[2]!.reroped, { from: 'embed', to: 'walk' });
    assert.equal(moved[2]!.drum, 'walk');
    assert.equal(auto.stats().migrations, 1);
    // walk was elevated with a worker from head: embed, elevated 6 windows ago, is protected.
    assert.deepEqual(auto.stats().elevations[1], {
      window: 11,
      stage: 'walk',
      workers: 2,
      donor: 'head',
    });
    assert.deepEqual(c.get('embed').workerCalls, [2]);
    assert.deepEqual(c.get('head').workerCalls, [3, 2]);
    await stop();
  });

  it('with no protection, the old drum would be the donor (what toc warns about)', async () => {
    const run = async (protectWindows: number) => {
      const c = chain([
        ['head', 1],
        ['walk', 1],
        ['embed', 1],
        ['store', 2],
      ]);
      const { stop } = c.start({ elevate: { ...elevate, protectWindows } });
      for (let i = 0; i < 6; i++) {
        await c.window({ head: IDLE, walk: CALM, embed: SAT, store: IDLE });
      }
      for (let i = 0; i < 6; i++) {
        await c.window({ head: IDLE, walk: SAT, embed: CALM, store: IDLE });
      }
      await stop();
      return c.get('embed').workerCalls;
    };
    assert.deepEqual(await run(10), [2]); // protected: walk waits for a donor instead
    assert.deepEqual(await run(0), [2, 1]); // unprotected: embed loses the worker it was given
  });
});

describe('autoRope elevates only the stages it may', () => {
  it('leaves a drum outside elevate.stages alone', async () => {
    const c = chain([
      ['head', 4],
      ['drum', 1],
    ]);
    const { auto, stop } = c.start({ elevate: { maxWorkers: 3, stages: ['head'] } });
    for (let i = 0; i < 12; i++) await c.window({ head: IDLE, drum: SAT });
    assert.equal(auto.stats().drum, 'drum');
    assert.deepEqual(auto.stats().elevations, []);
    assert.deepEqual(c.get('drum').workerCalls, []);
    await stop();
  });
});

describe('autoRope configuration', () => {
  it('rejects bad options with typed errors', () => {
    const t = new Topology().addStage('h', new FakeStage('h')).addStage('d', new FakeStage('d'));
    t.addEdge('h', 'd');
    assert.throws(() => new AutoRope({ topology: t, intervalMs: 100 }), TopologyError);
    t.freeze();
    const isConfig = (option: string) => (e: unknown) =>
      e instanceof InvalidOptionError && e.option === option;
    assert.throws(() => new AutoRope({ topology: t, intervalMs: 0 }), isConfig('intervalMs'));
    assert.throws(
      () => new AutoRope({ topology: t, intervalMs: 10, discoveryWIP: 0 }),
      isConfig('discoveryWIP'),
    );
    assert.throws(
      () => new AutoRope({ topology: t, intervalMs: 10, elevate: { maxWorkers: 0 } }),
      isConfig('elevate.maxWorkers'),
    );
    assert.throws(
      () => new AutoRope({ topology: t, intervalMs: 10, safetyFactor: 0 }),
      isConfig('safetyFactor'),
    );
    assert.throws(
      () =>
        new AutoRope({ topology: t, intervalMs: 10, elevate: { maxWorkers: 2, stages: ['x'] } }),
      TopologyError,
    );
    const bare = new Topology().addStage('h', () => mkStats()).freeze();
    assert.throws(() => new AutoRope({ topology: bare, intervalMs: 10 }), isConfig('setHeadWIP'));
    const calls: Array<[string, number]> = [];
    const ok = new AutoRope({
      topology: bare,
      intervalMs: 10,
      setHeadWIP: (h, n) => calls.push([h, n]),
    });
    assert.equal(ok.stats().discoveryWIP, 2);
  });

  it('runs once, and settles done when the signal aborts', async () => {
    const t = new Topology().addStage('h', new FakeStage('h')).freeze();
    const ac = new AbortController();
    const auto = autoRope({
      topology: t,
      intervalMs: 10,
      ticker: new ManualTicker(),
      signal: ac.signal,
    });
    await assert.rejects(auto.run(ac.signal), FlowStateError);
    ac.abort();
    await auto.done;
  });
});
