import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../src/proc/index.js';
import { FlowBoard } from '../../src/sessions/dashboard/index.js';
import {
  parseFlowPublication,
  type WireFlowPublication,
} from '../../src/sessions/wire/flow-publication.js';

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.add(t);
      return t;
    },
    clearTimeout: (h) => {
      timers.delete(h as { at: number; fn: () => void });
    },
  };
  /** Moves time on, firing every timer due on the way at its own time (re-armed ones too). */
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...timers].sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > end) break;
      timers.delete(next);
      now = next.at;
      next.fn();
    }
    now = end;
  };
  return { clock, advance, pending: () => timers.size };
}

const sample = (completed: number) => ({
  submitted: completed + 2,
  completed,
  failed: 0,
  wip: 2,
  wipLimit: 4,
  queueLength: 1,
  queueCapacity: 8,
  workers: 1,
  serviceTimeMs: completed * 3,
  serviceTime: { count: completed, p50Ms: 2, p95Ms: 5, p99Ms: 9 },
});

function pub(completed: number, over: Partial<WireFlowPublication> = {}): WireFlowPublication {
  return {
    name: 'etl',
    intervalMs: 1000,
    at: Date.now(),
    stages: ['read', 'parse'],
    edges: [{ from: 'read', to: 'parse', ratio: 1 }],
    drum: 'parse',
    samples: { read: sample(completed), parse: sample(completed) },
    ...over,
  };
}

describe('FlowBoard', () => {
  it('a flow is live while it publishes, greys out after three intervals, then leaves', () => {
    const { clock, advance, pending } = manualClock();
    const board = new FlowBoard({ clock, goneAfterMs: 10_000 });
    const events: string[] = [];
    board.on('state', (f) => events.push(`${f.name}:${f.state}`));
    board.on('gone', (n) => events.push(`${n}:gone`));
    board.publish(pub(1));
    assert.equal(board.get('etl')?.state, 'live');
    advance(2500);
    board.publish(pub(2));
    advance(2900);
    assert.equal(board.get('etl')?.state, 'live', 'less than three intervals since the last');
    // The board looks once a second, so a flow greys out within a second of its deadline.
    advance(1100);
    assert.equal(board.get('etl')?.state, 'stale');
    assert.deepEqual(events, ['etl:stale']);
    board.publish(pub(3));
    assert.equal(board.get('etl')?.state, 'live', 'a new sample brings it back');
    advance(3000 + 10_000 + 1100);
    assert.equal(board.get('etl'), undefined);
    assert.deepEqual(events, ['etl:stale', 'etl:live', 'etl:stale', 'etl:gone']);
    assert.equal(pending(), 0, 'no timer once the board is empty');
    board.close();
  });

  it('unpublish greys the flow out at once', () => {
    const { clock, advance } = manualClock();
    const board = new FlowBoard({ clock, goneAfterMs: 5000 });
    board.publish(pub(1));
    board.unpublish('etl');
    assert.equal(board.get('etl')?.state, 'stale');
    advance(5000);
    assert.equal(board.list().length, 0);
    board.close();
  });

  it('keeps at most maxPoints of history and restarts it when the stages change', () => {
    const { clock } = manualClock();
    const board = new FlowBoard({ clock, maxPoints: 3 });
    const changes: boolean[] = [];
    board.on('point', (_f, _p, changed) => changes.push(changed));
    for (let i = 1; i <= 5; i++) board.publish(pub(i));
    assert.deepEqual(
      board.get('etl')?.history.map((p) => p.samples.read!.completed),
      [3, 4, 5],
    );
    board.publish(pub(6, { drum: 'read' }));
    assert.equal(board.get('etl')?.history.length, 3, 'a new drum keeps the history');
    board.publish(
      pub(7, { stages: ['read'], edges: [], drum: null, samples: { read: sample(7) } }),
    );
    assert.equal(board.get('etl')?.history.length, 1, 'new stages: a new history');
    assert.deepEqual(changes, [true, false, false, false, false, true, true]);
    board.close();
  });
});

describe('FlowBoard limits', () => {
  it('refuses a new flow beyond maxFlows, still takes samples of the ones it has', () => {
    const { clock } = manualClock();
    const board = new FlowBoard({ clock, maxFlows: 2 });
    board.publish(pub(1, { name: 'a' }));
    board.publish(pub(1, { name: 'b' }));
    assert.throws(() => board.publish(pub(1, { name: 'c' })), /at most 2 flows; "c" was refused/);
    board.publish(pub(2, { name: 'a' }));
    assert.equal(board.get('a')?.history.length, 2);
    assert.deepEqual(
      board.list().map((f) => f.name),
      ['a', 'b'],
    );
    board.close();
  });
});

describe('parseFlowPublication', () => {
  const fail = (message: string): never => {
    throw new Error(message);
  };

  it('returns a clean copy of a good publication', () => {
    const p = parseFlowPublication({ ...pub(4), extra: 1 }, fail);
    assert.deepEqual(p, pub(4, { at: p.at }));
    assert.equal('extra' in p, false);
  });

  it('refuses every malformed part with one message naming it', () => {
    const cases: [unknown, RegExp][] = [
      [null, /'flow' must be a map/],
      [{ ...pub(1), name: '' }, /name must be a non-empty string/],
      [{ ...pub(1), intervalMs: 5 }, /intervalMs/],
      [{ ...pub(1), stages: [] }, /stages must be a non-empty array/],
      [{ ...pub(1), stages: ['a', 'a'] }, /unique/],
      [{ ...pub(1), edges: [{ from: 'read', to: 'nope' }] }, /unknown stage/],
      [{ ...pub(1), edges: [{ from: 'read', to: 'parse', ratio: 0 }] }, /ratio/],
      [{ ...pub(1), drum: 'nope' }, /drum "nope" is not one of the stages/],
      [{ ...pub(1), samples: { read: sample(1) } }, /samples\["parse"\] must be a map/],
      [
        { ...pub(1), samples: { read: { ...sample(1), wip: -1 }, parse: sample(1) } },
        /samples\["read"\]\.wip/,
      ],
      [{ ...pub(1), stages: Array.from({ length: 300 }, (_, i) => `s${i}`) }, /at most 256/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseFlowPublication(value, fail), message);
    }
  });
});
