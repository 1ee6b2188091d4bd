import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Topology, TopologyError, type TopologyErrorReason } from '../../../src/flow/index.js';
import { FakeStage, mkStats } from './fakes.js';

const stats = () => mkStats();

function rejects(fn: () => unknown, reason: TopologyErrorReason, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TopologyError, `expected TopologyError, got ${String(e)}`);
    assert.equal(e.code, 'ERR_SLUICE_FLOW_TOPOLOGY');
    assert.equal(e.reason, reason);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** a → b, a → c, b → d, c → d (ratio 2). */
function diamond(): Topology {
  return new Topology()
    .addStage('a', stats)
    .addStage('b', stats)
    .addStage('c', stats)
    .addStage('d', stats)
    .addEdge('a', 'b')
    .addEdge('a', 'c')
    .addEdge('b', 'd')
    .addEdge('c', 'd', 2)
    .freeze();
}

describe('Topology queries on a diamond', () => {
  const t = diamond();

  it('lists stages in registration order and the one head', () => {
    assert.deepEqual(t.stages(), ['a', 'b', 'c', 'd']);
    assert.deepEqual(t.heads(), ['a']);
    assert.equal(t.frozen, true);
  });

  it('answers upstream queries closest first', () => {
    assert.deepEqual(t.ancestorsOf('d'), ['b', 'c', 'a']);
    assert.deepEqual(t.ancestorsOf('b'), ['a']);
    assert.deepEqual(t.ancestorsOf('a'), []);
    assert.deepEqual(t.directPredecessors('d'), ['b', 'c']);
    assert.deepEqual(t.directPredecessors('a'), []);
    assert.deepEqual(t.directSuccessors('a'), ['b', 'c']);
    assert.deepEqual(t.descendantsOf('a'), ['b', 'c', 'd']);
    assert.deepEqual(t.headsTo('d'), ['a']);
    assert.deepEqual(t.headsTo('a'), ['a']);
  });

  it('reports edges with their ratios', () => {
    assert.deepEqual(t.incoming('d'), [
      { from: 'b', ratio: 1 },
      { from: 'c', ratio: 2 },
    ]);
    assert.equal(t.edgeRatio('a', 'b'), 1);
    assert.equal(t.edgeRatio('c', 'd'), 2);
    rejects(() => t.edgeRatio('a', 'd'), 'unknown-edge', /no edge "a" → "d"/);
  });

  it('answers reachability', () => {
    assert.equal(t.hasPath('a', 'd'), true);
    assert.equal(t.hasPath('c', 'd'), true);
    assert.equal(t.hasPath('b', 'c'), false);
    assert.equal(t.hasPath('d', 'a'), false);
    assert.equal(t.hasPath('b', 'b'), true);
  });

  it('refuses a rope over the diamond: a branches', () => {
    rejects(() => t.ropeSegment('d'), 'not-linear', /"a" .* 2 successors/);
    // Limiting a would also throttle c: a rope holds only a chain without branches.
    rejects(() => t.ropeSegment('b'), 'not-linear', /"a" .* 2 successors/);
    rejects(() => t.ropeSegment('a'), 'not-linear', /is a head/);
  });

  it('names unknown stages in every query', () => {
    rejects(() => t.ancestorsOf('zz'), 'unknown-stage', /"zz"/);
    rejects(() => t.hasPath('a', 'zz'), 'unknown-stage');
    rejects(() => t.stageStats('zz'), 'unknown-stage');
    rejects(() => t.incoming('zz'), 'unknown-stage');
  });
});

describe('Topology with several heads', () => {
  it('headsTo keeps only the heads that reach the target', () => {
    const t = diamond();
    const u = new Topology();
    for (const n of ['a', 'b', 'x', 'd', 'y']) u.addStage(n, stats);
    u.addEdge('a', 'b').addEdge('b', 'd').addEdge('x', 'd').freeze();
    assert.deepEqual(u.heads(), ['a', 'x', 'y']);
    assert.deepEqual(u.headsTo('d'), ['a', 'x']);
    assert.deepEqual(u.headsTo('b'), ['a']);
    rejects(() => u.ropeSegment('d'), 'not-linear', /2 heads feed drum "d"/);
    assert.deepEqual(u.ropeSegment('b'), { head: 'a', drum: 'b', segment: ['a'] });
    assert.deepEqual(t.headsTo('c'), ['a']);
  });

  it('finds the linear segment of a chain', () => {
    const t = new Topology();
    for (const n of ['h', 'p', 't', 's']) t.addStage(n, stats);
    t.addEdge('h', 'p').addEdge('p', 't').addEdge('t', 's').freeze();
    assert.deepEqual(t.ropeSegment('t'), { head: 'h', drum: 't', segment: ['h', 'p'] });
    assert.deepEqual(t.ropeSegment('s'), { head: 'h', drum: 's', segment: ['h', 'p', 't'] });
  });
});

describe('Topology rejects misconfiguration', () => {
  it('rejects a cycle and names it', () => {
    const t = new Topology();
    for (const n of ['a', 'b', 'c', 'h']) t.addStage(n, stats);
    t.addEdge('a', 'b').addEdge('b', 'c').addEdge('c', 'a').addEdge('h', 'a');
    rejects(() => t.freeze(), 'cycle', /^topology: cycle b → c → a → b$/);
    assert.equal(t.frozen, false);
    rejects(() => t.heads(), 'not-frozen');
  });

  it('rejects a two-stage cycle', () => {
    const t = new Topology().addStage('a', stats).addStage('b', stats);
    t.addEdge('a', 'b').addEdge('b', 'a');
    rejects(() => t.freeze(), 'cycle', /a → b → a|b → a → b/);
  });

  it('rejects bad stages and edges with one clear message each', () => {
    const t = new Topology().addStage('a', stats).addStage('b', stats);
    rejects(() => t.addStage('', stats), 'empty-name');
    rejects(() => t.addStage('a', stats), 'duplicate-stage', /"a" is already registered/);
    rejects(() => t.addStage('n', null as unknown as () => never), 'bad-stats');
    rejects(() => t.addStage('n', {} as unknown as () => never), 'bad-stats');
    rejects(() => t.addEdge('a', 'zz'), 'unknown-stage', /"zz"/);
    rejects(() => t.addEdge('a', 'a'), 'self-loop');
    rejects(() => t.addEdge('a', 'b', 0), 'bad-ratio');
    rejects(() => t.addEdge('a', 'b', 1.5), 'bad-ratio');
    rejects(() => t.addEdge('a', 'b', -2), 'bad-ratio');
    t.addEdge('a', 'b');
    rejects(() => t.addEdge('a', 'b'), 'duplicate-edge');
    rejects(() => t.stages(), 'not-frozen', /freeze\(\) before querying/);
    t.freeze();
    rejects(() => t.addStage('c', stats), 'frozen');
    rejects(() => t.addEdge('b', 'a'), 'frozen');
    rejects(() => t.freeze(), 'frozen');
  });

  it('rejects an empty topology', () => {
    rejects(() => new Topology().freeze(), 'no-stages');
  });
});

describe('Topology stage sources', () => {
  it('keeps a stage handle and reads stats through it', () => {
    const head = new FakeStage('h', 4);
    head.s.submitted = 7;
    const t = new Topology().addStage('h', head).addStage('x', () => mkStats({ completed: 3 }));
    t.addEdge('h', 'x').freeze();
    assert.equal(t.stageHandle('h'), head);
    assert.equal(t.stageHandle('x'), undefined);
    assert.equal(t.stageStats('h')().submitted, 7);
    head.s.submitted = 9;
    assert.equal(t.stageStats('h')().submitted, 9);
    assert.equal(t.stageStats('x')().completed, 3);
  });
});
