/**
 * The control half takes anything with the Stage surface (`StageLike`), not only flow's own
 * `Stage`: a stage whose work happens elsewhere sits in a Topology beside local stages, a rope
 * sets its WIP, the Reporter reads it. Batchers are registered as they are.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batcher,
  fromIterable,
  LimitManager,
  ManualTicker,
  Reporter,
  type Result,
  RopeController,
  type Stage,
  type StageLike,
  type Stats,
  silentLogger,
  start,
  Topology,
} from '../../../src/flow/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

/** A stage served "elsewhere": not a flow Stage, only its surface (here backed by a local one). */
class RemoteStage implements StageLike<number, number> {
  readonly #inner: Stage<number, number>;
  readonly maxWIPCalls: number[] = [];
  paused = false;
  constructor() {
    this.#inner = start((n: number) => n + 1, { capacity: 8 });
  }
  submit(item: number, options?: { signal?: AbortSignal }): Promise<void> {
    return this.#inner.submit(item, options);
  }
  closeInput(): void {
    this.#inner.closeInput();
  }
  out(): AsyncIterable<Result<number>> {
    return this.#inner.out();
  }
  wait(): Promise<void> {
    return this.#inner.wait();
  }
  stats(): Stats {
    return { ...this.#inner.stats(), received: 1000 };
  }
  setMaxWIP(n: number): number {
    this.maxWIPCalls.push(n);
    return this.#inner.setMaxWIP(n);
  }
  pauseAdmission(): void {
    this.paused = true;
  }
  resumeAdmission(): void {
    this.paused = false;
  }
}

describe('StageLike in the control half', () => {
  it(
    'a StageLike head sits beside a local drum; the rope sets its WIP through setMaxWIP',
    withLeakCheck(async () => {
      const remote = new RemoteStage();
      const drum = start((n: number) => n);
      const t = new Topology().addStage('remote', remote).addStage('drum', drum);
      t.addEdge('remote', 'drum').freeze();
      assert.equal(t.stageHandle('remote'), remote);
      assert.equal(t.stageStats('remote')().received, 1000, 'stats read through the surface');
      const ticker = new ManualTicker();
      const ac = new AbortController();
      const rope = new RopeController({
        topology: t,
        drum: 'drum',
        intervalMs: 100,
        initialRopeLength: 3,
        ticker,
      });
      const running = rope.run(ac.signal);
      await ticker.tick();
      assert.deepEqual(remote.maxWIPCalls.slice(0, 1), [3], 'the initial rope went to the head');
      ac.abort();
      await running;
      const lm = LimitManager.forStage(remote);
      lm.proposeCount('processing-rope', 2);
      assert.equal(remote.stats().maxWIP, 2);
      remote.closeInput();
      drum.closeInput();
      await Promise.all([remote.wait(), drum.wait()]);
    }),
  );

  it(
    'the Reporter reads a StageLike and a batcher as they are',
    withLeakCheck(async () => {
      const remote = new RemoteStage();
      const b = batcher(fromIterable([1, 2, 3, 4, 5]), 2);
      const batches = [];
      for await (const r of b) batches.push(r);
      await b.wait();
      let now = 0;
      const reporter = new Reporter({
        intervalMs: 100,
        logger: silentLogger,
        clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
        process: () => ({ rssBytes: 1 }),
      })
        .addStage('remote', remote)
        .addStage('batch', b);
      reporter.report();
      now = 1000;
      const rep = reporter.report();
      assert.equal(rep.stages.length, 2);
      const batch = rep.stages.find((s) => s.stage === 'batch')!;
      assert.equal(batch.submitted, 5, "a batcher's emitted items read as submitted");
      assert.equal(batch.completed, 3, 'and its batches as completed');
      assert.equal(batches.length, 3);
      remote.closeInput();
      await remote.wait();
    }),
  );

  it('a batcher in a Topology: received, emitted → submitted, batches → completed', async () => {
    const b = batcher(fromIterable([1, 2, 3]), 2);
    for await (const _ of b) {
      // drain
    }
    const t = new Topology().addStage('batch', b).freeze();
    const s = t.stageStats('batch')();
    assert.deepEqual([s.received, s.submitted, s.completed, s.targetWorkers], [3, 3, 2, 1]);
    assert.equal(t.stageHandle('batch'), undefined, 'a batcher has no knobs to turn');
  });
});
