/**
 * Lifecycles around a cluster stage: workers that start before the coordinator, a stage canceled
 * by its signal, a coordinator that restarts with the same name (a clean start: the earlier run's
 * late results are dropped), custom codecs, and graceful worker stops that hand items back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Codec,
  connect,
  DecodeError,
  type NatsServer,
  RemoteError,
  startNatsServer,
} from '../../src/cluster/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import type { WorkItem, WorkResult } from './fixtures/work.js';
import work from './fixtures/work.js';
import { collect, values } from './helpers.js';

const LONG = { timeoutMs: 20_000 };
let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.stop();
});

describe('cluster lifecycles', () => {
  it(
    'lets workers start before the coordinator creates the stage',
    withLeakCheck(async () => {
      await using workers = await connect({ servers: server.url, name: 'early' });
      const early = await workers.serve('work', work, { workers: 2 });
      await using coord = await connect({ servers: server.url, name: 'early' });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 10 });
      const reading = collect(stage.out());
      for (let n = 0; n < 5; n++) await stage.submit({ n });
      stage.closeInput();
      assert.equal((await reading).length, 5);
      await stage.wait();
      await waitFor(() => early.stats().done === 5, LONG);
    }),
  );

  it(
    "cancels pending items with the signal's reason when the stage's signal aborts",
    withLeakCheck(async () => {
      await using coord = await connect({ servers: server.url, name: 'signal' });
      const ac = new AbortController();
      const stage = await coord.stage<WorkItem, WorkResult>('work', {
        capacity: 10,
        signal: ac.signal,
      });
      await stage.submit({ n: 0 });
      await stage.submit({ n: 1 });
      const reading = collect(stage.out());
      ac.abort(new Error('enough'));
      const results = await reading;
      assert.equal(results.length, 2);
      for (const r of results) assert.ok(!r.ok && (r.error as Error).message === 'enough');
      assert.equal(((await stage.cause()) as Error).message, 'enough');
      await stage.wait();
      const s = stage.stats();
      assert.equal(s.canceled, 2);
      assert.equal(s.submitted, s.completed + s.canceled);
      await assert.rejects(
        coord.stage('other', { signal: AbortSignal.abort(new Error('before')) }),
        /before/,
      );
    }),
  );

  it(
    "starts clean when a coordinator restarts with the same name, dropping the earlier run's late results",
    withLeakCheck(async () => {
      await using workers = await connect({ servers: server.url, name: 'restart' });
      const w = await workers.serve('work', work, { workers: 2 });
      // The first coordinator dies (its connection just closes) while its items are in the workers.
      const first = await connect({ servers: server.url, name: 'restart' });
      const old = await first.stage<WorkItem, WorkResult>('work', { capacity: 10 });
      await old.submit({ n: 100, sleepMs: 600 });
      await old.submit({ n: 101, sleepMs: 600 });
      await old.submit({ n: 102, sleepMs: 600 });
      await waitFor(() => w.stats().inFlight === 2, LONG);
      await first.connection.close();
      await first.close();
      await using second = await connect({ servers: server.url, name: 'restart' });
      const stage = await second.stage<WorkItem, WorkResult>('work', { capacity: 10 });
      const reading = collect(stage.out());
      for (let n = 0; n < 3; n++) await stage.submit({ n });
      stage.closeInput();
      const ns = values(await reading)
        .map((r) => r.n)
        .sort();
      assert.deepEqual(ns, [0, 1, 2], "only the new run's results");
      await stage.wait();
      // The two items the workers held finish and report; the new run drops them as stale.
      await waitFor(() => stage.stats().stale === 2, LONG);
      assert.equal(stage.stats().completed, 3);
      // The third old item was purged: it never ran.
      await waitFor(() => w.stats().done === 5, LONG);
    }),
  );

  it(
    'uses a custom codec given to both sides, and a worker refuses a codec it does not know',
    withLeakCheck(async () => {
      const upper: Codec = {
        name: 'upper',
        encode: (v) => new TextEncoder().encode(JSON.stringify(v)),
        decode: (b) => JSON.parse(new TextDecoder().decode(b)),
      };
      await using coord = await connect({ servers: server.url, name: 'codec' });
      await using workers = await connect({ servers: server.url, name: 'codec' });
      const good = await coord.stage<string, string>('good', { capacity: 2, codec: upper });
      const bad = await coord.stage<string, string>('bad', { capacity: 2, codec: upper });
      await workers.serve('good', async (s: string) => s.toUpperCase(), { codec: upper });
      await workers.serve('bad', async (s: string) => s.toUpperCase());
      const r1 = collect(good.out());
      const r2 = collect(bad.out());
      await good.submit('abc');
      await bad.submit('abc');
      good.closeInput();
      bad.closeInput();
      assert.deepEqual(values(await r1), ['ABC']);
      const [refused] = await r2;
      assert.ok(refused && !refused.ok && refused.error instanceof RemoteError);
      assert.equal(refused.error.code, new DecodeError('x').code);
      assert.match(refused.error.message, /codec "upper"/);
      await Promise.all([good.wait(), bad.wait()]);
    }),
  );

  it(
    "keeps a long item's lease with working() heartbeats, so a short ack wait does not redeliver it",
    withLeakCheck(async () => {
      await using coord = await connect({ servers: server.url, name: 'lease' });
      await using workers = await connect({ servers: server.url, name: 'lease' });
      const stage = await coord.stage<WorkItem, WorkResult>('work', {
        capacity: 4,
        ackWaitMs: 200,
      });
      const a = await workers.serve('work', work);
      const b = await workers.serve('work', work);
      const reading = collect(stage.out());
      await stage.submit({ n: 1, sleepMs: 1500 }); // 7.5 ack waits long
      stage.closeInput();
      assert.equal((await reading).length, 1);
      await stage.wait();
      assert.equal(a.stats().received + b.stats().received, 1, 'delivered once: never redelivered');
      assert.equal(stage.stats().duplicates, 0);
    }),
  );

  it(
    'hands running items back on a graceful stop after the grace, so another worker does them at once',
    withLeakCheck(async () => {
      await using coord = await connect({ servers: server.url, name: 'handback' });
      await using w1 = await connect({ servers: server.url, name: 'handback' });
      await using w2 = await connect({ servers: server.url, name: 'handback' });
      // A long ack wait: only the hand-back (not a lost lease) can bring the item back quickly.
      const stage = await coord.stage<WorkItem, WorkResult>('work', {
        capacity: 4,
        ackWaitMs: 60_000,
      });
      const first = await w1.serve('work', work);
      const reading = collect(stage.out());
      await stage.submit({ n: 7, sleepMs: 1500 });
      await waitFor(() => first.stats().inFlight === 1, LONG);
      const t0 = performance.now();
      await first.stop({ graceMs: 100 });
      assert.equal(first.stats().handedBack, 1);
      await w2.serve('work', work);
      stage.closeInput();
      const [r] = await reading;
      assert.ok(r?.ok && r.value.n === 7);
      assert.ok(performance.now() - t0 < 20_000);
      await stage.wait();
    }),
  );
});
