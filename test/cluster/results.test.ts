/**
 * How results come back: as core NATS messages that nothing stores, each naming its item's ack
 * subject, which the coordinator acknowledges once it holds the result. An item therefore stays
 * in the work stream until some coordinator has heard its result: a result nobody hears brings
 * the item back after the ack wait.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { isAckSubjectOf, subscribeResults } from '../../src/cluster/coordinator/coordinator-io.js';
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
      const sub = subscribeResults(nc, names, (m) => {
        assert.ok(m.headers?.get(H_ACK)?.startsWith(`$JS.ACK.${names.workStream}.`));
        const envelope = decodeResult(m, codec);
        if (envelope) heard.add(envelope.id);
      });
      try {
        await waitFor(
          async () => (await jsm.streams.info(names.workStream)).state.messages === 0,
          LONG,
        );
        assert.deepEqual([...heard].sort(), ['run.1', 'run.2', 'run.3']);
        assert.equal((await consumer()).num_ack_pending, 0);
      } finally {
        await sub.drain();
      }
    }, LONG),
  );
});
