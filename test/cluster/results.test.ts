/**
 * How results come back: as core NATS messages that nothing stores, each naming its item's ack
 * subject, which the coordinator acknowledges once it holds the result. An item therefore stays
 * in the work stream until some coordinator has heard its result: a result nobody hears brings
 * the item back after the ack wait.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { isAckSubjectOf, ResultListener } from '../../src/cluster/coordinator/result-listener.js';
import { connect, startNatsServer } from '../../src/cluster/index.js';
import { builtinCodecs } from '../../src/cluster/wire/codec.js';
import { decodeResult, H_ACK, messageHeaders } from '../../src/cluster/wire/envelope.js';
import { stageNames } from '../../src/cluster/wire/names.js';
import { ensureStage } from '../../src/cluster/wire/setup.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import work from './fixtures/work.js';

const LONG = { timeoutMs: 20_000 };

describe('cluster results', () => {
  it('acknowledges only ack subjects of the stage’s own work stream', () => {
    const mine = 'SLUICE_p_work';
    assert.ok(isAckSubjectOf(`$JS.ACK.${mine}.workers.1.7.7.1700000000000000000.0`, mine));
    assert.ok(
      isAckSubjectOf(`$JS.ACK.hub.ACCHASH.${mine}.workers.1.7.7.1700000000000000000.0.rnd`, mine),
    );
    assert.ok(!isAckSubjectOf(`$JS.ACK.SLUICE_p_other.workers.1.7.7.1.0`, mine));
    assert.ok(!isAckSubjectOf(`$JS.API.STREAM.DELETE.${mine}`, mine));
    assert.ok(!isAckSubjectOf(`$JS.ACK.${mine}`, mine));
    assert.ok(!isAckSubjectOf('sluice.p.work.results', mine));
  });

  it(
    'keeps an item in the work stream until a coordinator holds its result: unheard, it comes again after the ack wait',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      await using workers = await connect({ servers: server.url, name: 'unheard' });
      await using listener = await connect({ servers: server.url, name: 'unheard' });
      const nc = listener.connection;
      const names = stageNames('unheard', 'work');
      // The stage as a coordinator makes it, but no coordinator listens for its results.
      await ensureStage(await jetstreamManager(nc), names, {
        capacity: 10,
        maxWIP: 10,
        ackWaitMs: 300,
        maxDeliver: 100,
        storage: 'file',
      });
      const codec = builtinCodecs.get('msgpack')!;
      const js = jetstream(nc);
      const N = 3;
      for (let n = 0; n < N; n++) {
        await js.publish(names.workSubject, codec.encode({ n }), {
          headers: messageHeaders(`run.${n + 1}`, codec),
        });
      }
      const server1 = await workers.serve('work', work, { workers: 2, pollMs: 1000 });
      const jsm = await jetstreamManager(nc);
      const consumer = () => jsm.consumers.info(names.workStream, names.workConsumer);
      // The worker ran every item and sent every result, and still the items are there...
      await waitFor(() => server1.stats().done >= N, LONG);
      assert.equal((await jsm.streams.info(names.workStream)).state.messages, N);
      // ...and come again once their ack wait is over.
      await waitFor(async () => (await consumer()).num_redelivered > 0, LONG);
      await waitFor(() => server1.stats().done > N, LONG);

      // A listener that holds the results acknowledges their items: the stream empties.
      const heard = new Set<string>();
      const results = new ResultListener(
        nc,
        names,
        (m) => {
          assert.ok(m.headers?.get(H_ACK)?.startsWith(`$JS.ACK.${names.workStream}.`));
          const envelope = decodeResult(m, codec);
          if (envelope) heard.add(envelope.id);
        },
        () => true,
      );
      try {
        await waitFor(
          async () => (await jsm.streams.info(names.workStream)).state.messages === 0,
          LONG,
        );
        assert.deepEqual([...heard].sort(), ['run.1', 'run.2', 'run.3']);
        assert.equal((await consumer()).num_ack_pending, 0);
      } finally {
        await results.close();
      }
    }, LONG),
  );
});

/** A connection that records publishes and lets the test deliver messages by hand. */
function fakeConnection() {
  const published: string[] = [];
  let deliver: ((m: Msg) => void) | undefined;
  let drained = false;
  const nc = {
    subscribe(_subject: string, opts: { callback: (e: Error | null, m: Msg) => void }) {
      deliver = (m) => opts.callback(null, m);
      return {
        drain: async () => {
          drained = true;
        },
      };
    },
    publish(subject: string) {
      published.push(subject);
    },
    isClosed: () => false,
  } as unknown as NatsConnection;
  const names = stageNames('p', 'work');
  const result = (seq: number): Msg =>
    ({
      data: new Uint8Array(),
      headers: {
        get: (k: string) =>
          k === H_ACK ? `$JS.ACK.${names.workStream}.workers.1.${seq}.${seq}.1.0` : '',
      },
    }) as unknown as Msg;
  return {
    nc,
    names,
    published,
    send: (seq: number) => deliver!(result(seq)),
    raw: (m: Msg) => deliver!(m),
    drained: () => drained,
  };
}

describe('cluster result acknowledgements', () => {
  it('sends each ack at once when it may not be held (the rope is reached)', () => {
    const f = fakeConnection();
    const heard: number[] = [];
    const listener = new ResultListener(
      f.nc,
      f.names,
      () => heard.push(1),
      () => false,
    );
    f.send(1);
    f.send(2);
    assert.equal(heard.length, 2);
    assert.equal(f.published.length, 2);
    assert.match(f.published[1]!, /\.2\.2\.1\.0$/);
    void listener.close();
  });

  it('holds acks while allowed: 64 leave together, the rest within 10 ms, all of them on close', async () => {
    const f = fakeConnection();
    let allowed = true;
    const seen: number[] = [];
    const listener = new ResultListener(
      f.nc,
      f.names,
      () => {},
      (n) => {
        seen.push(n);
        return allowed;
      },
    );
    for (let i = 1; i <= 63; i++) f.send(i);
    assert.equal(f.published.length, 0);
    assert.deepEqual(seen.slice(0, 3), [1, 2, 3]);
    f.send(64);
    assert.equal(f.published.length, 64);
    f.send(65);
    assert.equal(f.published.length, 64);
    await waitFor(() => f.published.length === 65, { timeoutMs: 5000 });
    f.send(66);
    allowed = false;
    f.send(67); // not allowed: everything held leaves now
    assert.equal(f.published.length, 67);
    allowed = true;
    f.send(68);
    assert.equal(f.published.length, 67);
    await listener.close();
    assert.ok(f.drained());
    assert.equal(f.published.length, 68);
    assert.deepEqual(
      f.published.map((s) => Number(s.split('.')[5])),
      Array.from({ length: 68 }, (_, i) => i + 1),
    );
  });

  it('sends held acks at recheck() once holding them is no longer allowed (a new item to deliver)', async () => {
    const f = fakeConnection();
    let allowed = true;
    const listener = new ResultListener(
      f.nc,
      f.names,
      () => {},
      () => allowed,
    );
    f.send(1);
    f.send(2);
    listener.recheck();
    assert.equal(f.published.length, 0);
    allowed = false;
    listener.recheck();
    assert.equal(f.published.length, 2);
    listener.recheck();
    assert.equal(f.published.length, 2);
    await listener.close();
  });

  it('acknowledges nothing for a result without an ack subject of its own stream', async () => {
    const f = fakeConnection();
    let heard = 0;
    const listener = new ResultListener(
      f.nc,
      f.names,
      () => heard++,
      () => false,
    );
    for (const ack of [
      '$JS.API.STREAM.DELETE.SLUICE_p_work',
      '$JS.ACK.SLUICE_q_work.workers.1.1.1.1.0',
      '',
    ]) {
      f.raw({ data: new Uint8Array(), headers: { get: () => ack } } as unknown as Msg);
    }
    f.raw({ data: new Uint8Array() } as unknown as Msg);
    assert.equal(heard, 4);
    assert.deepEqual(f.published, []);
    await listener.close();
  });
});
