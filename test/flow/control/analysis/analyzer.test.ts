import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FOCUSING_STEPS } from '../../../../src/flow/control/analysis/focusing.js';
import {
  Analyzer,
  classifyStep,
  InvalidOptionError,
  observe,
  type StageObservation,
} from '../../../../src/flow/index.js';
import { mkStats } from '../fakes.js';

describe('classifyStep', () => {
  const base = { ropeActive: true, rebalancing: false, starving: false };

  it('orders the steps as Goldratt numbers them', () => {
    assert.deepEqual(FOCUSING_STEPS, [
      'identify',
      'exploit',
      'subordinate',
      'elevate',
      'prevent-inertia',
    ]);
  });

  it('1. no constraint → identify, whatever else holds', () => {
    for (const constraint of [undefined, '']) {
      assert.equal(
        classifyStep({
          prevConstraint: 'a',
          constraint,
          ropeActive: false,
          rebalancing: true,
          starving: true,
        }),
        'identify',
      );
    }
  });

  it('2. a changed constraint → prevent-inertia, above rebalancing and starving', () => {
    assert.equal(
      classifyStep({
        prevConstraint: 'a',
        constraint: 'b',
        ropeActive: false,
        rebalancing: true,
        starving: true,
      }),
      'prevent-inertia',
    );
    // The first identification is not a change.
    assert.equal(
      classifyStep({ ...base, prevConstraint: undefined, constraint: 'a' }),
      'subordinate',
    );
    assert.equal(classifyStep({ ...base, prevConstraint: '', constraint: 'a' }), 'subordinate');
  });

  it('3. rebalancing → elevate, above starving and an inactive rope', () => {
    assert.equal(
      classifyStep({
        prevConstraint: 'a',
        constraint: 'a',
        ropeActive: false,
        rebalancing: true,
        starving: true,
      }),
      'elevate',
    );
  });

  it('4. starving or no rope → exploit', () => {
    assert.equal(
      classifyStep({ ...base, prevConstraint: 'a', constraint: 'a', starving: true }),
      'exploit',
    );
    assert.equal(
      classifyStep({ ...base, prevConstraint: 'a', constraint: 'a', ropeActive: false }),
      'exploit',
    );
  });

  it('5. otherwise → subordinate', () => {
    assert.equal(classifyStep({ ...base, prevConstraint: 'a', constraint: 'a' }), 'subordinate');
  });
});

describe('observe', () => {
  it("turns two snapshots into the analyzer's observation", () => {
    const prev = mkStats({ activeWorkers: 2, serviceTimeMs: 100, idleTimeMs: 50, submitted: 4 });
    const curr = mkStats({
      activeWorkers: 2,
      serviceTimeMs: 1700,
      idleTimeMs: 250,
      outputBlockedTimeMs: 40,
      submitted: 24,
      completed: 18,
      failed: 2,
      bufferedDepth: 3,
    });
    assert.deepEqual(observe('t', prev, curr, 1000), {
      stage: 't',
      busyWork: 1600,
      capacityWork: 2000,
      idleWork: 200,
      blockedWork: 40,
      arrivals: 20,
      completions: 18,
      failures: 2,
      queueDepth: 3,
      workers: 2,
    });
    assert.equal(observe('t', prev, curr, 0).capacityWork, 0);
  });
});

interface W {
  busy?: number;
  idle?: number;
  blocked?: number;
  completions?: number;
  failures?: number;
  depth?: number;
}

/** One stage's window: capacity 1000 ms of slot time, fractions as given. */
function obs(stage: string, w: W): StageObservation {
  return {
    stage,
    capacityWork: 1000,
    busyWork: (w.busy ?? 0) * 1000,
    idleWork: (w.idle ?? 0) * 1000,
    blockedWork: (w.blocked ?? 0) * 1000,
    completions: w.completions ?? 10,
    failures: w.failures ?? 0,
    arrivals: w.completions ?? 10,
    queueDepth: w.depth ?? 0,
    workers: 1,
  };
}

const SAT: W = { busy: 0.95, idle: 0.02 };
const IDLE: W = { busy: 0.2, idle: 0.8 };

describe('Analyzer stage states', () => {
  const state = (w: W, o: Partial<StageObservation> = {}) =>
    new Analyzer().step([{ ...obs('s', w), ...o }]).states.s;

  it('classifies each state at its thresholds', () => {
    assert.equal(state({}, { capacityWork: 0 }), 'unknown');
    assert.equal(state({ busy: 0 }, { completions: 0 }), 'unknown');
    assert.equal(state({ busy: 0.9, failures: 3 }), 'broken'); // 0.3 > 0.2
    assert.equal(state({ busy: 0.9, idle: 0.05, failures: 2 }), 'saturated'); // 0.2 is not > 0.2
    assert.equal(state({ busy: 0.3, idle: 0.6 }), 'starved');
    assert.equal(state({ busy: 0.3, idle: 0.5 }), 'healthy'); // 0.5 is not > 0.5
    assert.equal(state({ busy: 0.5, blocked: 0.4 }), 'blocked');
    assert.equal(state({ busy: 0.8, idle: 0.1, blocked: 0.1 }), 'saturated');
    assert.equal(state({ busy: 0.7, idle: 0.1 }), 'healthy'); // 0.7 is not > 0.7
    assert.equal(state({ busy: 0.8, idle: 0.3 }), 'healthy'); // idle must be < 0.3
    assert.equal(state({ busy: 0.75, blocked: 0.2 }), 'healthy'); // blocked must be < 0.2
  });

  it('does not call a stage starved while its queue grows', () => {
    const a = new Analyzer();
    assert.equal(a.step([obs('s', { ...IDLE, depth: 2 })]).states.s, 'starved');
    const d = a.step([obs('s', { ...IDLE, depth: 5 })]).stages[0]!;
    assert.equal(d.queueGrowth, 3);
    assert.equal(d.state, 'healthy');
    assert.equal(a.step([obs('s', { ...IDLE, depth: 5 })]).states.s, 'starved');
  });

  it('lets a missing signal pass', () => {
    const o: StageObservation = { stage: 's', busyWork: 800, capacityWork: 1000, completions: 5 };
    const d = new Analyzer().step([o]);
    assert.equal(d.states.s, 'saturated');
    assert.equal(d.stages[0]!.idleRatio, undefined);
    assert.equal(d.stages[0]!.blockedRatio, undefined);
  });
});

describe('Analyzer constraint pick', () => {
  it('confirms a constraint after three windows and grows confidence to 1', () => {
    const a = new Analyzer();
    const w = () => a.step([obs('head', IDLE), obs('t', SAT), obs('tail', IDLE)]);
    let d = w();
    assert.equal(d.constraint, undefined);
    assert.equal(d.status, 'emerging');
    assert.equal(d.candidate, 't');
    assert.equal(d.candidateWindows, 1);
    assert.equal(d.confidence, 0);
    d = w();
    assert.equal(d.constraint, undefined);
    assert.equal(d.candidateWindows, 2);
    d = w();
    assert.equal(d.constraint, 't');
    assert.equal(d.status, 'identified');
    assert.equal(d.confidence, 0.3);
    assert.equal(d.candidate, undefined);
    const conf: number[] = [];
    for (let i = 0; i < 8; i++) conf.push(w().confidence);
    assert.deepEqual(conf, [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1]);
    assert.equal(a.constraint, 't');
  });

  it('resets the count when the challenger misses a window', () => {
    const a = new Analyzer();
    const sat = () => a.step([obs('h', IDLE), obs('t', SAT)]);
    const calm = () => a.step([obs('h', IDLE), obs('t', { busy: 0.5, idle: 0.2 })]);
    sat();
    sat();
    assert.equal(calm().candidateWindows, 0);
    assert.equal(sat().constraint, undefined);
    assert.equal(sat().constraint, undefined);
    assert.equal(sat().constraint, 't');
  });

  it('reports a tie within 0.05 as ambiguous, and 0.05 apart as a winner', () => {
    const a = new Analyzer();
    let d = a.step([obs('p', { busy: 0.86, idle: 0.05 }), obs('t', { busy: 0.9, idle: 0.05 })]);
    assert.equal(d.top, undefined);
    assert.equal(d.status, 'ambiguous');
    d = a.step([obs('p', { busy: 0.85, idle: 0.05 }), obs('t', { busy: 0.9, idle: 0.05 })]);
    assert.equal(d.top, 't');
    assert.equal(d.status, 'emerging');
  });

  it('keeps the constraint through ties and quiet windows (sticky)', () => {
    const a = new Analyzer();
    for (let i = 0; i < 3; i++) a.step([obs('p', IDLE), obs('t', SAT)]);
    const tie = a.step([obs('p', { busy: 0.93, idle: 0.02 }), obs('t', SAT)]);
    assert.equal(tie.constraint, 't');
    assert.equal(tie.confidence, 0); // no support this window
    const quiet = a.step([obs('p', IDLE), obs('t', IDLE)]);
    assert.equal(quiet.constraint, 't');
    assert.equal(a.step([obs('p', IDLE), obs('t', SAT)]).confidence, 0.1);
  });

  it('follows a moved constraint after the hysteresis', () => {
    const a = new Analyzer();
    for (let i = 0; i < 5; i++) a.step([obs('walk', IDLE), obs('embed', SAT)]);
    const moved = () => a.step([obs('walk', SAT), obs('embed', { busy: 0.6, idle: 0.2 })]);
    let d = moved();
    assert.equal(d.constraint, 'embed');
    assert.equal(d.candidate, 'walk');
    d = moved();
    assert.equal(d.constraint, 'embed');
    d = moved();
    assert.equal(d.constraint, 'walk');
    assert.equal(d.confidence, 0.3);
  });

  it('drops the constraint after demotionWindows when asked to', () => {
    const a = new Analyzer({ thresholds: { demotionWindows: 2 } });
    for (let i = 0; i < 3; i++) a.step([obs('t', SAT)]);
    assert.equal(a.step([obs('t', IDLE)]).constraint, 't');
    const d = a.step([obs('t', IDLE)]);
    assert.equal(d.constraint, undefined);
    assert.equal(d.status, 'unconstrained');
  });

  it('pins a drum with confidence 1 and classifies states anyway', () => {
    const a = new Analyzer({ drum: 'p' });
    const d = a.step([obs('p', IDLE), obs('t', SAT)]);
    assert.equal(d.constraint, 'p');
    assert.equal(d.confidence, 1);
    assert.equal(d.status, 'pinned');
    assert.equal(d.states.t, 'saturated');
    assert.equal(d.starvationCount, 1);
    assert.equal(a.step([obs('p', IDLE), obs('t', SAT)]).starvationCount, 2);
    a.setDrum(undefined);
    assert.equal(a.step([obs('p', IDLE), obs('t', SAT)]).constraint, undefined);
    a.step([obs('p', IDLE), obs('t', SAT)]);
    assert.equal(a.step([obs('p', IDLE), obs('t', SAT)]).constraint, 't');
  });

  it('counts consecutive starved windows of the constraint', () => {
    const a = new Analyzer();
    for (let i = 0; i < 3; i++) a.step([obs('t', SAT)]);
    assert.equal(a.step([obs('t', IDLE)]).starvationCount, 1);
    assert.equal(a.step([obs('t', IDLE)]).starvationCount, 2);
    assert.equal(a.step([obs('t', SAT)]).starvationCount, 0);
  });

  it('reports no observations as unknown', () => {
    assert.equal(new Analyzer().step([]).status, 'unknown');
  });

  it('is deterministic: the same windows give the same diagnoses', () => {
    const window = fc.array(
      fc.record({
        stage: fc.constantFrom('a', 'b', 'c'),
        busy: fc.double({ min: 0, max: 1, noNaN: true }),
        idle: fc.double({ min: 0, max: 1, noNaN: true }),
        blocked: fc.double({ min: 0, max: 0.5, noNaN: true }),
        completions: fc.nat(20),
        failures: fc.nat(5),
        depth: fc.nat(10),
      }),
      { maxLength: 3 },
    );
    fc.assert(
      fc.property(fc.array(window, { maxLength: 30 }), (windows) => {
        const run = () => {
          const a = new Analyzer();
          return windows.map((w) =>
            a.step(
              w.map((x) => obs(x.stage, { ...x, failures: Math.min(x.failures, x.completions) })),
            ),
          );
        };
        assert.deepEqual(run(), run());
      }),
      { numRuns: 200 },
    );
  });

  it('rejects bad thresholds and drums', () => {
    assert.throws(() => new Analyzer({ thresholds: { hysteresisWindows: 0 } }), InvalidOptionError);
    assert.throws(
      () => new Analyzer({ thresholds: { hysteresisWindows: 1.5 } }),
      InvalidOptionError,
    );
    assert.throws(
      () => new Analyzer({ thresholds: { brokenError: 2 } }),
      /thresholds.brokenError: must be a number in \[0, 1\]/,
    );
    assert.throws(() => new Analyzer({ thresholds: { demotionWindows: 0 } }), InvalidOptionError);
    assert.throws(() => new Analyzer({ drum: '' }), InvalidOptionError);
  });
});
