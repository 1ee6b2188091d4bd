/**
 * The flow contract of a cluster stage, with workers served in this process on their own
 * connection (the process-crossing cases are in faults.test.ts and rope.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ClusterClosedError,
  ClusterStage,
  connect,
  type NatsServer,
  PayloadTooLargeError,
  RemoteError,
  startNatsServer,
} from '../../src/cluster/index.js';
import { ClosedError } from '../../src/flow/index.js';
import { InvalidOptionError } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import type { WorkItem, WorkResult } from './fixtures/work.js';
import work from './fixtures/work.js';
import { collect, values } from './helpers.js';

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.stop();
});

let pipelineCount = 0;
/** A fresh pipeline name per test, so tests never see each other's streams. */
const fresh = () => `t${process.pid}-${++pipelineCount}`;

describe('cluster stage: the flow contract', () => {
  it(
    "yields exactly one result per accepted submit, and flow's stats invariants after wait()",
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using workers = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 50, maxWIP: 8 });
      await workers.serve('work', work, { workers: 4, statsIntervalMs: 50 });
      const reading = collect(stage.out());
      const N = 300;
      for (let n = 0; n < N; n++) await stage.submit({ n });
      stage.closeInput();
      const results = await reading;
      await stage.wait();
      const ns = values(results)
        .map((r) => r.n)
        .sort((a, b) => a - b);
      assert.deepEqual(
        ns,
        Array.from({ length: N }, (_, i) => i),
      );
      const s = stage.stats();
      assert.equal(s.submitted, N);
      assert.equal(s.completed + s.canceled, s.submitted);
      assert.ok(s.panicked <= s.failed && s.failed <= s.completed);
      for (const k of [
        'bufferedDepth',
        'inFlightWeight',
        'admitted',
        'admittedWeight',
        'waiterCount',
        'activeWorkers',
      ] as const) {
        assert.equal(s[k], 0, k);
      }
      const d = s.serviceTimeDist!;
      assert.equal(d.count + d.underflow + d.overflow, s.completed - s.deadLettered);
      assert.ok(s.serviceTimeMs > 0);
    }),
  );

  it(
    'keeps submit order with one worker and maxWIP 1',
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using workers = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 20, maxWIP: 1 });
      await workers.serve('work', work, { workers: 1 });
      const reading = collect(stage.out());
      for (let n = 0; n < 100; n++) await stage.submit({ n });
      stage.closeInput();
      const ns = values(await reading).map((r) => r.n);
      assert.deepEqual(
        ns,
        Array.from({ length: 100 }, (_, i) => i),
      );
      await stage.wait();
    }),
  );

  it(
    'turns a thrown error into an ok:false result with its name, message and code; a non-Error throw is a panic',
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using workers = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 10, maxWIP: 1 });
      await workers.serve('work', work);
      const reading = collect(stage.out());
      await stage.submit({ n: 0, fail: 'out of range' });
      await stage.submit({ n: 1, panic: 'a string' });
      await stage.submit({ n: 2 });
      stage.closeInput();
      const [a, b, c] = await reading;
      assert.ok(a && !a.ok && a.error instanceof RemoteError);
      assert.equal(a.error.name, 'RangeError');
      assert.equal(a.error.message, 'out of range');
      assert.equal(a.error.code, 'E_FIXTURE');
      assert.match(a.error.worker, /:\d+:\d+$/);
      assert.ok(b && !b.ok && b.error instanceof RemoteError);
      assert.equal(b.error.name, 'PanicError');
      assert.equal(b.error.code, 'ERR_SLUICE_PANIC');
      assert.ok(c?.ok);
      await stage.wait();
      const s = stage.stats();
      assert.equal(s.failed, 2);
      assert.equal(s.panicked, 1);
    }),
  );

  it(
    'encodes with MessagePack by default (binary kept) and JSON on request',
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using workers = await connect({ servers: server.url, name });
      const echo = async (x: unknown) => x;
      const mp = await coord.stage<unknown, unknown>('mp', { capacity: 4 });
      const js = await coord.stage<unknown, unknown>('js', { capacity: 4, codec: 'json' });
      await workers.serve('mp', echo);
      await workers.serve('js', echo);
      const item = { bytes: new Uint8Array([1, 2, 255]), when: new Date(0), text: 'é' };
      const r1 = collect(mp.out());
      const r2 = collect(js.out());
      await mp.submit(item);
      await js.submit(item);
      mp.closeInput();
      js.closeInput();
      const [v1] = values(await r1) as [typeof item];
      const [v2] = values(await r2) as [Record<string, unknown>];
      assert.ok(v1.bytes instanceof Uint8Array);
      assert.deepEqual([...v1.bytes], [1, 2, 255]);
      assert.equal(v1.when.getTime(), 0);
      assert.equal(v2.when, '1970-01-01T00:00:00.000Z');
      assert.deepEqual(v2.bytes, { 0: 1, 1: 2, 2: 255 });
      assert.equal(v2.text, 'é');
      await Promise.all([mp.wait(), js.wait()]);
    }),
  );

  it(
    "rejects an item over the server's max payload (or one its codec cannot encode) at once, sending nothing; a result too large comes back as that error",
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 4 });
      const big = { n: 0, pad: new Uint8Array(2 * 1024 * 1024) };
      await assert.rejects(stage.submit(big), (e: unknown) => {
        assert.ok(e instanceof PayloadTooLargeError);
        assert.equal(e.code, 'ERR_SLUICE_CLUSTER_PAYLOAD_TOO_LARGE');
        assert.match(e.message, /2097\d+ bytes encoded, above the server's max payload/);
        return true;
      });
      assert.equal(stage.stats().submitted, 0);
      assert.equal(stage.stats().admitted, 0);
      stage.closeInput();
      await stage.wait();
      // A codec that cannot encode the item: its error, at once, nothing sent.
      const json = await coord.stage<unknown, unknown>('json', { capacity: 2, codec: 'json' });
      await assert.rejects(json.submit({ n: 1n }), /BigInt/);
      assert.equal(json.stats().admitted, 0);
      // A result over the max payload comes back as that error, as the item's result.
      await using workers = await connect({ servers: server.url, name });
      await workers.serve('json', async () => 'x'.repeat(2 * 1024 * 1024));
      const reading = collect(json.out());
      await json.submit({ n: 2 });
      json.closeInput();
      const [r] = await reading;
      assert.ok(r && !r.ok && r.error instanceof RemoteError);
      assert.equal(r.error.code, 'ERR_SLUICE_CLUSTER_PAYLOAD_TOO_LARGE');
      assert.match(r.error.message, /the result of .* is \d+ bytes encoded/);
      await json.wait();
    }),
  );

  it(
    'makes submit wait while the buffer is full, and a cancelled signal stops the wait',
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using workers = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 3 });
      for (let n = 0; n < 3; n++) await stage.submit({ n });
      const ac = new AbortController();
      let settled = false;
      const blocked = stage.submit({ n: 99 }, { signal: ac.signal }).finally(() => {
        settled = true;
      });
      await waitFor(() => stage.stats().waiterCount === 1);
      assert.equal(settled, false);
      ac.abort(new Error('gave up'));
      await assert.rejects(blocked, /gave up/);
      assert.equal(stage.stats().waiterCount, 0);
      // A waiting submit goes through once a result frees a permit.
      const next = stage.submit({ n: 3 });
      const reading = collect(stage.out());
      await workers.serve('work', work, { workers: 2 });
      await next;
      stage.closeInput();
      const ns = values(await reading)
        .map((r) => r.n)
        .sort();
      assert.deepEqual(ns, [0, 1, 2, 3]);
      await stage.wait();
      assert.equal(stage.stats().submitted, 4);
    }),
  );

  it(
    "rejects submits after closeInput with flow's ClosedError, and pauses admission",
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using workers = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 5 });
      await workers.serve('work', work);
      stage.pauseAdmission();
      let admitted = false;
      const p = stage.submit({ n: 1 }).then(() => {
        admitted = true;
      });
      await waitFor(() => stage.stats().waiterCount === 1);
      assert.equal(admitted, false);
      assert.equal(stage.stats().paused, true);
      stage.resumeAdmission();
      await p;
      stage.closeInput();
      await assert.rejects(stage.submit({ n: 2 }), ClosedError);
      assert.equal((await collect(stage.out())).length, 1);
      await stage.wait();
    }),
  );

  it(
    'dispose cancels pending items, and close leaves nothing running',
    withLeakCheck(async () => {
      const name = fresh();
      const coord = await connect({ servers: server.url, name });
      const stage = await coord.stage<WorkItem, WorkResult>('work', { capacity: 5 });
      await stage.submit({ n: 1 });
      const cause = stage.cause();
      await coord.close();
      assert.ok((await cause) instanceof ClusterClosedError);
      const s = stage.stats();
      assert.equal(s.submitted, s.completed + s.canceled);
      assert.equal(s.canceled, 1);
      assert.ok(stage instanceof ClusterStage);
    }),
  );

  it(
    'refuses bad names and options with InvalidOptionError, creating nothing',
    withLeakCheck(async () => {
      await assert.rejects(connect({ servers: server.url, name: 'a.b' }), InvalidOptionError);
      await assert.rejects(connect({ servers: [], name: 'x' }), /servers/);
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await assert.rejects(coord.stage('bad name'), InvalidOptionError);
      await assert.rejects(
        coord.stage('s', { capacity: 0 }),
        /capacity: must be an integer >= 1 \(got 0\)/,
      );
      await assert.rejects(coord.stage('s', { maxWIP: 1.5 }), /maxWIP/);
      await assert.rejects(coord.stage('s', { codec: 'yaml' as 'json' }), /codec/);
      await assert.rejects(coord.serve('s', 'nope' as never), /fn: must be a function/);
      await assert.rejects(coord.serve('s', work, { workers: 0 }), /workers/);
      const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(coord.connection);
      const names: string[] = [];
      for await (const s of jsm.streams.names()) names.push(s);
      assert.deepEqual(
        names.filter((n) => n.includes(name)),
        [],
      );
    }),
  );

  it(
    'leaves one stream on the server after wait() (a result stream of sluice 0.2 is deleted), and remove() deletes it',
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(coord.connection);
      // What sluice 0.2 kept beside the work stream: results in a stream of their own.
      await jsm.streams.add({
        name: `SLUICE_${name}_work_RESULTS`,
        subjects: [`sluice.${name}.work.results`],
      });
      const stage = await coord.stage('work', { capacity: 2 });
      stage.closeInput();
      await stage.wait();
      const list = async () => {
        const names: string[] = [];
        for await (const s of jsm.streams.names()) if (s.includes(name)) names.push(s);
        return names.sort();
      };
      assert.deepEqual(await list(), [`SLUICE_${name}_work`]);
      await stage.remove();
      assert.deepEqual(await list(), []);
    }),
  );
});
