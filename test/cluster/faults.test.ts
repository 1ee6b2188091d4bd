/**
 * Faults across processes: `sluice worker` processes SIGKILLed, frozen or killed by a poison
 * item; the server stopped and started again, or gone for good. Every worker and server is
 * killed in `finally`, even when an assertion fails.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClusterUnavailableError,
  connect,
  DeadLetterError,
  startNatsServer,
} from '../../src/cluster/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import type { WorkItem, WorkResult } from './fixtures/work.js';
import work from './fixtures/work.js';
import { collect, killAll, startWorker, values, type WorkerProcess } from './helpers.js';

const LONG = { timeoutMs: 20_000 };

describe('cluster faults', () => {
  it(
    'loses and duplicates nothing when a worker process is SIGKILLed mid-item',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      const procs: WorkerProcess[] = [];
      try {
        await using coord = await connect({ servers: server.url, name: 'kill' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', {
          capacity: 100,
          maxWIP: 6,
          ackWaitMs: 800,
        });
        procs.push(startWorker(server.url, 'kill', 'work', ['--workers', '3']));
        procs.push(startWorker(server.url, 'kill', 'work', ['--workers', '3']));
        await Promise.all(procs.map((p) => p.ready));
        const N = 40;
        const results: WorkResult[] = [];
        const reading = (async () => {
          for await (const r of stage.out()) {
            if (!r.ok) throw r.error;
            results.push(r.value);
          }
        })();
        for (let n = 0; n < N; n++) await stage.submit({ n, sleepMs: 60 });
        stage.closeInput();
        const victim = procs[0]!;
        // Kill it while it holds items: once it has answered some and still has some in flight.
        await waitFor(() => results.some((r) => r.pid === victim.pid), LONG);
        victim.kill('SIGKILL');
        await victim.exited;
        await reading;
        await stage.wait();
        const ns = results.map((r) => r.n).sort((a, b) => a - b);
        assert.deepEqual(
          ns,
          Array.from({ length: N }, (_, i) => i),
        );
        const s = stage.stats();
        assert.equal(s.completed, N);
        assert.equal(s.failed, 0);
      } finally {
        await killAll(procs);
      }
    }),
  );

  it(
    'retries the item of a worker that never answers, and drops its late duplicate result',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      const procs: WorkerProcess[] = [];
      try {
        await using coord = await connect({ servers: server.url, name: 'frozen' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', {
          capacity: 10,
          maxWIP: 2,
          ackWaitMs: 600,
        });
        const frozen = startWorker(server.url, 'frozen', 'work');
        procs.push(frozen);
        await frozen.ready;
        const reading = collect(stage.out());
        await stage.submit({ n: 0, sleepMs: 2500 });
        await waitFor(
          () => stage.workerStats().some((w) => w.pid === frozen.pid && w.inFlight === 1),
          LONG,
        );
        frozen.kill('SIGSTOP'); // alive but silent: no heartbeats, no answer
        const healthy = startWorker(server.url, 'frozen', 'work');
        procs.push(healthy);
        stage.closeInput();
        const results = await reading;
        assert.equal(results.length, 1);
        assert.equal(values(results)[0]!.pid, healthy.pid);
        // Wake the frozen worker: it finishes the item and sends a second result, which is dropped.
        frozen.kill('SIGCONT');
        await waitFor(
          () => stage.workerStats().find((w) => w.pid === frozen.pid)?.done === 1,
          LONG,
        );
        await stage.wait();
        assert.equal(stage.stats().completed, 1);
        assert.equal(stage.stats().submitted, 1);
        const done = stage.workerStats().reduce((a, w) => a + w.done, 0);
        assert.equal(done, 2, 'the item ran twice, yet it has one result');
      } finally {
        await killAll(procs);
      }
    }),
  );

  it(
    'dead-letters a poison item that kills every worker after maxDeliver deliveries',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      const procs: WorkerProcess[] = [];
      try {
        await using coord = await connect({ servers: server.url, name: 'poison' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', {
          capacity: 10,
          maxWIP: 1,
          ackWaitMs: 500,
          maxDeliver: 2,
        });
        const reading = collect(stage.out());
        await stage.submit({ n: 0, crash: true });
        await stage.submit({ n: 1 });
        stage.closeInput();
        // Keep one worker process up: start another whenever the last one died.
        let stop = false;
        const keeper = (async () => {
          while (!stop) {
            const w = startWorker(server.url, 'poison', 'work');
            procs.push(w);
            await w.exited;
          }
        })();
        const results = await reading;
        stop = true;
        const [first, second] = results;
        assert.ok(first && !first.ok, 'the poison item has a failed result');
        assert.ok(first.error instanceof DeadLetterError);
        assert.equal(first.error.code, 'ERR_SLUICE_CLUSTER_DEAD_LETTER');
        assert.ok(second?.ok && second.value.n === 1);
        await stage.wait();
        const s = stage.stats();
        assert.equal(s.deadLettered, 1);
        assert.equal(s.failed, 1);
        assert.equal(s.completed, 2);
        assert.ok(
          procs.filter((p) => p.child.signalCode === 'SIGKILL').length >= 2,
          'two workers died of it',
        );
        await killAll(procs);
        await keeper;
      } finally {
        await killAll(procs);
      }
    }),
  );

  it(
    'resumes when the server is stopped and started again mid-run (same store and port)',
    withLeakCheck(async () => {
      const first = await startNatsServer({ keepStore: true });
      const { port, storeDir } = first;
      let second: Awaited<ReturnType<typeof startNatsServer>> | undefined;
      try {
        await using coord = await connect({ servers: first.url, name: 'restart' });
        await using workers = await connect({ servers: first.url, name: 'restart' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', {
          capacity: 100,
          maxWIP: 4,
          ackWaitMs: 1500,
        });
        await workers.serve('work', work, { workers: 4, pollMs: 1000 });
        const got: number[] = [];
        const reading = (async () => {
          for await (const r of stage.out()) {
            if (!r.ok) throw r.error;
            got.push(r.value.n);
          }
        })();
        const N = 60;
        const submitting = (async () => {
          for (let n = 0; n < N; n++) await stage.submit({ n, sleepMs: 10 });
          stage.closeInput();
        })();
        await waitFor(() => got.length >= 10, LONG);
        await first.stop();
        second = await startNatsServer({ port, storeDir });
        await submitting;
        await reading;
        await stage.wait();
        assert.deepEqual(
          got.sort((a, b) => a - b),
          Array.from({ length: N }, (_, i) => i),
        );
      } finally {
        await first.stop();
        await second?.stop();
        const { rmSync } = await import('node:fs');
        rmSync(storeDir, { recursive: true, force: true });
      }
    }, LONG),
  );

  it(
    'fails with ClusterUnavailableError after unavailableTimeoutMs when the server stays down, never hanging',
    withLeakCheck(async () => {
      const server = await startNatsServer();
      try {
        await using coord = await connect({ servers: server.url, name: 'gone' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', {
          capacity: 10,
          unavailableTimeoutMs: 1000,
        });
        await stage.submit({ n: 0 });
        const reading = collect(stage.out());
        await server.stop();
        const t0 = performance.now();
        await assert.rejects(stage.wait(), ClusterUnavailableError);
        const waited = performance.now() - t0;
        assert.ok(waited >= 900 && waited < 10_000, `failed after ${waited} ms`);
        const results = await reading;
        assert.equal(results.length, 1);
        assert.ok(
          results[0] && !results[0].ok && results[0].error instanceof ClusterUnavailableError,
        );
        await assert.rejects(stage.submit({ n: 1 }), ClusterUnavailableError);
        const s = stage.stats();
        assert.equal(s.submitted, s.completed + s.canceled);
      } finally {
        await server.stop();
      }
    }, LONG),
  );
});
