import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { start, Topology } from '../../src/flow/index.js';
import { InvalidOptionError } from '../../src/proc/index.js';
import { FlowPublisher } from '../../src/sessions/index.js';
import type { WireFlowPublication } from '../../src/sessions/wire/flow-publication.js';
import { waitFor } from '../helpers/wait.js';

function topology() {
  const a = start(async (x: number) => x, { trackServiceTime: true });
  const b = start(async (x: number) => x);
  const t = new Topology().addStage('a', a).addStage('b', b).addEdge('a', 'b', 2).freeze();
  return {
    t,
    a,
    async close() {
      a.closeInput();
      b.closeInput();
      // Nobody reads the results: discard them so the stages can finish.
      await Promise.all([a.discardAndWait(), b.discardAndWait()]);
    },
  };
}

/** A transport that records what it is sent; `hold` makes sends wait until released. */
function transport() {
  const sent: WireFlowPublication[] = [];
  const unpublished: string[] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  let failNext: Error | undefined;
  let failAll: Error | undefined;
  let waiting = 0;
  return {
    sent,
    unpublished,
    /** Sends now waiting at the gate. */
    waiting: () => waiting,
    hold() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      gate = undefined;
      open();
    },
    /** The next send fails with `e`; with `sticky`, every send until `heal()`. */
    fail(e: Error, sticky = false) {
      failNext = e;
      failAll = sticky ? e : undefined;
    },
    heal() {
      failNext = undefined;
      failAll = undefined;
    },
    t: {
      publish: async (flow: WireFlowPublication) => {
        sent.push(flow);
        if (gate) {
          waiting++;
          await gate;
          waiting--;
        }
        if (failNext) {
          const e = failNext;
          failNext = failAll;
          throw e;
        }
      },
      unpublish: async (name: string) => {
        unpublished.push(name);
      },
    },
  };
}

describe('FlowPublisher', () => {
  it('sends the graph and a first sample before it resolves, then one per interval', async () => {
    const flow = topology();
    const tr = transport();
    await flow.a.submit(1);
    const p = await FlowPublisher.start('etl', flow.t, { intervalMs: 20, drum: () => 'b' }, tr.t);
    assert.equal(tr.sent.length, 1);
    const first = tr.sent[0]!;
    assert.deepEqual(first.stages, ['a', 'b']);
    assert.deepEqual(first.edges, [{ from: 'a', to: 'b', ratio: 2 }]);
    assert.equal(first.drum, 'b');
    assert.equal(first.samples.a!.submitted, 1);
    assert.equal(first.samples.b!.serviceTime, null, 'b does not track service time');
    await waitFor(() => tr.sent.length >= 3);
    await p.stop();
    const after = tr.sent.length;
    assert.deepEqual(tr.unpublished, ['etl']);
    await p.stop();
    assert.deepEqual(tr.unpublished, ['etl'], 'stop is idempotent');
    await new Promise((r) => setTimeout(r, 60)); // three intervals: nothing more is sent
    assert.equal(tr.sent.length, after);
    await flow.close();
  });

  it('never overlaps sends and keeps a failed send in lastError without throwing', async () => {
    const flow = topology();
    const tr = transport();
    const p = await FlowPublisher.start('etl', flow.t, { intervalMs: 10 }, tr.t);
    tr.hold();
    await waitFor(() => tr.waiting() === 1, { message: 'a send held at the gate' });
    const held = tr.sent.length;
    // Held for several intervals: that one send stays the only one in flight.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(tr.sent.length, held);
    assert.equal(tr.waiting(), 1);
    tr.fail(new Error('daemon gone'), true);
    tr.release();
    await waitFor(() => p.lastError?.message === 'daemon gone');
    tr.heal();
    await waitFor(() => tr.sent.length > held && p.lastError === undefined, {
      message: 'the next tick succeeds and clears the error',
    });
    await p[Symbol.asyncDispose]();
    await flow.close();
  });

  it('refuses bad arguments with InvalidOptionError and starts nothing', async () => {
    const flow = topology();
    const tr = transport();
    const bad: [string, unknown, object, string][] = [
      ['', flow.t, {}, 'name'],
      ['x'.repeat(201), flow.t, {}, 'name'],
      ['etl', flow.t, { intervalMs: 5 }, 'intervalMs'],
      ['etl', flow.t, { intervalMs: 1.5 }, 'intervalMs'],
      ['etl', new Topology().addStage('a', flow.a), {}, 'topology'],
      ['etl', {}, {}, 'topology'],
      ['etl', flow.t, { drum: 'nope' }, 'drum'],
    ];
    for (const [name, t, options, option] of bad) {
      await assert.rejects(
        FlowPublisher.start(name, t as Topology, options, tr.t),
        (e: unknown) => e instanceof InvalidOptionError && e.option === option,
        option,
      );
    }
    assert.equal(tr.sent.length, 0);
    await flow.close();
  });

  it('a refused first sample rejects start and leaves no timer', async () => {
    const flow = topology();
    const tr = transport();
    tr.fail(new Error('publishFlow: refused'));
    await assert.rejects(FlowPublisher.start('etl', flow.t, { intervalMs: 10 }, tr.t), /refused/);
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(tr.sent.length, 1, 'no tick after a failed start');
    await flow.close();
  });
});
