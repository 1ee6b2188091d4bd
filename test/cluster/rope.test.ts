/**
 * The rope over the network: `setMaxWIP` caps the items in flight across every worker of every
 * process (measured by the workers: each result carries when its `fn` started and ended), and a
 * cluster stage in a `Topology` beside local stages is found as the drum by autoRope. Also
 * per-worker stats and merged histograms, and `sluice worker`'s graceful stop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsServer, startNatsServer } from '../../src/cluster/index.js';
import { autoRope, Reporter, start, startFrom, Topology } from '../../src/flow/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import type { WorkItem, WorkResult } from './fixtures/work.js';
import work from './fixtures/work.js';
import { killAll, maxOverlap, startWorker, type WorkerProcess } from './helpers.js';

const LONG = { timeoutMs: 20_000 };
let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.stop();
});

describe('cluster rope', () => {
  it(
    'setMaxWIP changes max_ack_pending live, and in-flight across worker processes never exceeds it',
    withLeakCheck(async () => {
      const procs: WorkerProcess[] = [];
      try {
        await using coord = await connect({ servers: server.url, name: 'wip' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 100, maxWIP: 2 });
        for (let i = 0; i < 2; i++) {
          procs.push(
            startWorker(server.url, 'wip', 'work', ['--workers', '4', '--stats-interval', '100ms']),
          );
        }
        await Promise.all(procs.map((p) => p.ready));
        const results: WorkResult[] = [];
        const reading = (async () => {
          for await (const r of stage.out()) {
            if (!r.ok) throw r.error;
            results.push(r.value);
          }
        })();
        for (let n = 0; n < 16; n++) await stage.submit({ n, sleepMs: 60 });
        await waitFor(() => results.length === 16, LONG);
        const phase1 = maxOverlap(results);
        assert.equal(phase1, 2, 'two in flight at most, and the cap was reached');
        // Both processes took part: the cap is across processes, not per process.
        assert.equal(new Set(results.map((r) => r.pid)).size, 2);
        assert.equal(stage.setMaxWIP(5), 5);
        assert.equal(await stage.maxWIPApplied(), 5);
        assert.equal(stage.stats().maxWIP, 5);
        for (let n = 16; n < 56; n++) await stage.submit({ n, sleepMs: 60 });
        stage.closeInput();
        await reading;
        await stage.wait();
        const phase2 = maxOverlap(results.slice(16));
        assert.ok(phase2 <= 5 && phase2 >= 4, `in flight after raising the cap to 5: ${phase2}`);
        // The workers' own high-water marks agree.
        await waitFor(() => stage.workerStats().reduce((a, w) => a + w.done, 0) === 56, LONG);
        for (const w of stage.workerStats()) assert.ok(w.maxInFlight <= 4);
        assert.equal(stage.setMaxWIP(1000), 100, 'clamped to capacity');
        await stage.maxWIPApplied();
      } finally {
        await killAll(procs);
      }
    }),
  );

  it(
    "reports per-worker stats and merges every worker's histogram",
    withLeakCheck(async () => {
      await using coord = await connect({ servers: server.url, name: 'perworker' });
      await using w1 = await connect({ servers: server.url, name: 'perworker' });
      await using w2 = await connect({ servers: server.url, name: 'perworker' });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 50, maxWIP: 4 });
      const a = await w1.serve('work', work, { workers: 2, statsIntervalMs: 20 });
      const b = await w2.serve('work', work, { workers: 2, statsIntervalMs: 20 });
      const reading = (async () => {
        let n = 0;
        for await (const r of stage.out()) if (r.ok) n++;
        return n;
      })();
      for (let n = 0; n < 40; n++)
        await stage.submit({ n, sleepMs: 5, fail: n % 10 === 0 ? 'x' : undefined });
      stage.closeInput();
      assert.equal(await reading, 36);
      await stage.wait();
      await waitFor(() => stage.workerStats().reduce((s, w) => s + w.done, 0) === 40, LONG);
      const list = stage.workerStats();
      assert.deepEqual(list.map((w) => w.id).sort(), [a.id, b.id].sort());
      for (const w of list) {
        assert.equal(w.pid, process.pid);
        assert.equal(w.slots, 2);
        assert.equal(w.inFlight, 0);
        assert.equal(w.serviceTimeDist.count, w.done);
        assert.ok(
          w.serviceTimeDist.minMs >= 4,
          `service time measured by the worker: ${w.serviceTimeDist.minMs}`,
        );
      }
      assert.equal(
        list.reduce((s, w) => s + w.failed, 0),
        4,
      );
      const merged = stage.mergedServiceTime();
      assert.equal(merged.count, 40);
      assert.ok(merged.p50Ms >= 4 && merged.maxMs >= merged.p50Ms);
      const s = stage.stats();
      assert.equal(s.serviceTimeDist!.count, 40);
      assert.ok(Math.abs(s.serviceTimeMs - list.reduce((x, w) => x + w.serviceTimeMs, 0)) < 1);
      assert.equal(a.stats().done + b.stats().done, 40);
    }),
  );

  it(
    'sits in a Topology with local stages, and autoRope names the cluster stage as the drum',
    withLeakCheck(async () => {
      await using coord = await connect({ servers: server.url, name: 'topo' });
      await using workers = await connect({ servers: server.url, name: 'topo' });
      const ITEMS = 150;
      const parse = start(async (n: number) => ({ n }), { workers: 4, capacity: ITEMS });
      const remote = await coord.stage<WorkItem, WorkResult>('transform', { capacity: ITEMS });
      await workers.serve('transform', work, { workers: 2, statsIntervalMs: 50 });
      const feeding = (async () => {
        for await (const r of parse.out())
          if (r.ok) await remote.submit({ ...r.value, sleepMs: 20 });
        remote.closeInput();
      })();
      const store = startFrom(remote.out(), (v: WorkResult) => v.n);
      const topology = new Topology()
        .addStage('parse', parse)
        .addStage('transform', remote)
        .addStage('store', store)
        .addEdge('parse', 'transform')
        .addEdge('transform', 'store')
        .freeze();
      const ac = new AbortController();
      const auto = autoRope({ topology, intervalMs: 150, signal: ac.signal });
      const producing = (async () => {
        for (let n = 0; n < ITEMS; n++) await parse.submit(n);
        parse.closeInput();
      })();
      let stored = 0;
      for await (const r of store.out()) if (r.ok) stored++;
      await Promise.all([producing, feeding, parse.wait(), remote.wait(), store.wait()]);
      ac.abort();
      await auto.done;
      assert.equal(stored, ITEMS);
      // The Reporter reads the cluster stage like the local ones.
      const reporter = new Reporter({ intervalMs: 1000 })
        .addStage('parse', parse)
        .addStage('transform', remote)
        .addStage('store', store);
      const report = reporter.report();
      const row = report.stages.find((r) => r.stage === 'transform');
      assert.equal(row?.completed, ITEMS);
      assert.ok((row?.serviceTimeMs ?? 0) >= ITEMS * 19, `service time ${row?.serviceTimeMs}`);
      assert.match(report.line, /transform: sub=150 comp=150/);
      const drums = auto.history().map((w) => w.drum);
      assert.ok(drums.includes('transform'), `windows' drums: ${drums.join(',')}`);
      assert.ok(
        !drums.some((d) => d !== undefined && d !== 'transform'),
        `windows' drums: ${drums.join(',')}`,
      );
    }),
  );

  it(
    '`sluice worker` stops gracefully on SIGTERM: finishes its item, then exits 0',
    withLeakCheck(async () => {
      const procs: WorkerProcess[] = [];
      try {
        await using coord = await connect({ servers: server.url, name: 'sigterm' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 5, maxWIP: 1 });
        const w = startWorker(server.url, 'sigterm', 'work', ['--stats-interval', '50ms']);
        procs.push(w);
        await w.ready;
        const reading = (async () => {
          const out: WorkResult[] = [];
          for await (const r of stage.out()) {
            if (!r.ok) throw r.error;
            out.push(r.value);
          }
          return out;
        })();
        await stage.submit({ n: 1, sleepMs: 400 });
        await waitFor(() => stage.workerStats().some((s) => s.inFlight === 1), LONG);
        w.kill('SIGTERM');
        const exit = await w.exited;
        assert.deepEqual(exit, { code: 0, signal: null });
        stage.closeInput();
        const results = await reading;
        assert.equal(results.length, 1);
        assert.equal(results[0]!.pid, w.pid);
        await stage.wait();
        const last = stage.workerStats().find((s) => s.pid === w.pid);
        assert.equal(last?.stopped, true);
      } finally {
        await killAll(procs);
      }
    }),
  );
});
