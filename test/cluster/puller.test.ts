/**
 * How a worker pulls: exactly as many items as it asks for (its free slots), one open request at
 * a time, and a missing consumer reported instead of waited on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsServer, startNatsServer } from '../../src/cluster/index.js';
import { JS_API_PREFIX } from '../../src/cluster/wire/names.js';
import type { Delivery } from '../../src/cluster/worker/delivery.js';
import { parseAckSubject } from '../../src/cluster/worker/delivery.js';
import { Puller } from '../../src/cluster/worker/puller.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.stop();
});

let pipelineCount = 0;
const fresh = () => `p${process.pid}-${++pipelineCount}`;

describe('worker pulls', () => {
  it('reads the delivery count and stream sequence from both ack subject forms', () => {
    assert.deepEqual(parseAckSubject('$JS.ACK.S.C.3.17.40.1700000000000000000.5'), {
      deliveryCount: 3,
      seq: 17,
    });
    assert.deepEqual(parseAckSubject('$JS.ACK.dom.hash.S.C.1.9.9.1700000000000000000.0.token'), {
      deliveryCount: 1,
      seq: 9,
    });
    assert.equal(parseAckSubject('$JS.ACK.S.C.x.9.9.1.0'), undefined);
    assert.equal(parseAckSubject('_INBOX.abc.1'), undefined);
    assert.equal(parseAckSubject('$JS.ACK.too.short'), undefined);
  });

  it(
    'gets exactly the number of items it asked for, and the request ends when they came',
    withLeakCheck(async () => {
      const name = fresh();
      await using coord = await connect({ servers: server.url, name });
      await using worker = await connect({ servers: server.url, name });
      const stage = await coord.stage<number, number>('work', { capacity: 20 });
      for (let n = 0; n < 5; n++) await stage.submit(n);
      const got: Delivery[] = [];
      let ended = 0;
      let gone = 0;
      const puller = new Puller(
        worker.connection,
        JS_API_PREFIX,
        stage.names.workStream,
        stage.names.workConsumer,
        5000,
        { item: (d) => got.push(d), ended: () => ended++, gone: () => gone++ },
      );
      const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(coord.connection);
      const info = () => jsm.consumers.info(stage.names.workStream, stage.names.workConsumer);
      try {
        puller.request(2);
        assert.equal(puller.open, true);
        puller.request(3); // one request at a time: ignored while one is open
        await waitFor(() => ended === 1, { message: 'the request for 2 ended' });
        assert.equal(got.length, 2);
        assert.equal(puller.open, false);
        // The server handed out exactly two: three still wait in the stream.
        const i1 = await info();
        assert.equal(i1.num_ack_pending, 2);
        assert.equal(i1.num_pending, 3);
        assert.deepEqual(
          got.map((d) => d.deliveryCount),
          [1, 1],
        );
        for (const d of got) d.ack();
        puller.request(3);
        await waitFor(() => ended === 2, { message: 'the request for 3 ended' });
        assert.equal(got.length, 5);
        assert.deepEqual(
          got.map((d) => d.seq),
          [1, 2, 3, 4, 5],
        );
        // A nak sends an item back at once, with its delivery count up by one.
        got[4]!.nak();
        for (const d of got.slice(2, 4)) d.ack();
        puller.request(1);
        await waitFor(() => ended === 3, { message: 'the redelivery came' });
        assert.equal(got[5]!.seq, 5);
        assert.equal(got[5]!.deliveryCount, 2);
        got[5]!.ack();
        await waitFor(async () => (await info()).num_ack_pending === 0);
        assert.equal(gone, 0);
      } finally {
        puller.close();
        await stage.remove();
      }
    }),
  );

  it(
    'reports a consumer that does not exist (no answer a second after the expiry) instead of pulling on',
    withLeakCheck(async () => {
      await using worker = await connect({ servers: server.url, name: fresh() });
      let gone = 0;
      const puller = new Puller(worker.connection, JS_API_PREFIX, 'NO_SUCH_STREAM', 'x', 1000, {
        item: () => assert.fail('no item can come'),
        ended: () => assert.fail('the request cannot end normally'),
        gone: () => gone++,
      });
      try {
        puller.request(4);
        await waitFor(() => gone === 1, { message: 'gone reported', timeoutMs: 10_000 });
        assert.equal(puller.open, false);
      } finally {
        puller.close();
      }
    }),
  );
});
