/**
 * `await using` on a Stage, the renamed errors and their deprecated aliases, and the one panic
 * rule for a `weight` function.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClosedError,
  ErrClosed,
  ErrStopping,
  ErrWeightExceedsLimit,
  FlowConfigError,
  FlowControlError,
  FlowError,
  InvalidOptionError,
  PanicError,
  pipe,
  StoppingError,
  start,
  startFrom,
  WeightExceedsLimitError,
} from '../../../src/flow/index.js';
import { SluiceError } from '../../../src/proc/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { assertFinalInvariants, collect, gate, settle } from './stage-helpers.js';

describe('flow stage: await using', () => {
  test(
    'disposal closes the input, drops results not taken and waits for the stage to finish',
    withLeakCheck(async () => {
      const g = gate((n: number) => n * 2);
      let stage: ReturnType<typeof start<number, number>> | undefined;
      let disposed = false;
      const scope = (async () => {
        await using s = start(g.fn, { capacity: 4, workers: 2 });
        stage = s;
        for (let i = 0; i < 5; i++) await s.submit(i);
        const first = await s.out().next();
        assert.deepEqual(first.value, { ok: true, value: 0 });
      })().then(() => {
        disposed = true;
      });
      // The first result needs item 0 released; then the scope ends while 1..4 are admitted.
      while (g.calls.length === 0) await settle(1);
      g.release(0);
      await settle();
      assert.equal(disposed, false, 'disposal waits for admitted work');
      g.releaseAll();
      for (let i = 0; i < 5 && !disposed; i++) {
        g.releaseAll();
        await settle(1);
      }
      await scope;
      const s = stage!.stats();
      assert.equal(s.submitted, 5);
      assert.equal(s.completed, 5, 'admitted work ran to its end');
      assertFinalInvariants(s);
      await assert.rejects(stage!.submit(9), ClosedError);
    }),
  );

  test(
    'disposal reports a fail-fast error once: it rejects unless wait() or cause() saw it',
    withLeakCheck(async () => {
      const boom = new Error('boom');
      const fail = () => {
        throw boom;
      };
      await assert.rejects(
        (async () => {
          await using s = start(fail);
          await s.submit(1);
          await settle();
        })(),
        (e: unknown) => e === boom,
      );
      await (async () => {
        await using s = start(fail);
        await s.submit(1);
        void collect(s.out());
        await assert.rejects(s.wait(), (e: unknown) => e === boom);
      })(); // resolves: the caller already saw the error through wait()
      await (async () => {
        await using s = start(fail);
        await s.submit(1);
        assert.equal(await s.discardAndCause(), boom);
      })();
    }),
  );

  test(
    'a stage disposed before any submit finishes at once, and a startFrom stage reads its source to the end',
    withLeakCheck(async () => {
      {
        await using s = start((n: number) => n);
        assert.equal(s.stats().submitted, 0);
      }
      let read = 0;
      function* src() {
        for (let i = 0; i < 100; i++) {
          read++;
          yield { ok: true as const, value: i };
        }
      }
      let stage: ReturnType<typeof startFrom<number, number>> | undefined;
      {
        await using s = startFrom(src(), (n: number) => n, { capacity: 2 });
        stage = s;
      }
      assert.equal(read, 100, 'source ownership: read to its end');
      assertFinalInvariants(stage.stats());
    }),
  );
});

describe('flow errors', () => {
  test('every flow error is a FlowError and a SluiceError with a stable code', () => {
    const cases: [Error, string][] = [
      [new ClosedError(), 'ERR_SLUICE_FLOW_CLOSED'],
      [new StoppingError(), 'ERR_SLUICE_FLOW_STOPPING'],
      [new WeightExceedsLimitError(5, 3), 'ERR_SLUICE_FLOW_WEIGHT_EXCEEDS_LIMIT'],
    ];
    for (const [e, code] of cases) {
      assert.ok(e instanceof FlowError, e.name);
      assert.ok(e instanceof SluiceError, e.name);
      assert.equal((e as SluiceError).code, code);
    }
    assert.equal(new ClosedError().name, 'ClosedError');
  });

  test('the 0.1 names are deprecated aliases of the new ones', () => {
    assert.equal(ErrClosed, ClosedError);
    assert.equal(ErrStopping, StoppingError);
    assert.equal(ErrWeightExceedsLimit, WeightExceedsLimitError);
    assert.equal(FlowControlError, FlowError);
    assert.equal(FlowConfigError, InvalidOptionError);
    assert.equal(pipe, startFrom);
    assert.ok(new ClosedError() instanceof ErrClosed);
  });

  test(
    'a weight function that throws a non-Error rejects submit with a PanicError; an Error passes as it is',
    withLeakCheck(async () => {
      const stage = start((n: number) => n, {
        weight: (n) => {
          if (n === 1) throw 'not an error';
          if (n === 2) throw undefined;
          if (n === 3) throw new RangeError('mine');
          return 1;
        },
      });
      await assert.rejects(
        stage.submit(1),
        (e: unknown) => e instanceof PanicError && e.value === 'not an error',
      );
      await assert.rejects(
        stage.submit(2),
        (e: unknown) => e instanceof PanicError && e.value === undefined,
      );
      await assert.rejects(stage.submit(3), (e: unknown) => e instanceof RangeError);
      const out = collect(stage);
      await stage.submit(4);
      stage.closeInput();
      assert.equal((await out).length, 1, 'a rejected submit produced no result');
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );

  test(
    'in a startFrom stage a panicking weight travels on as an error result',
    withLeakCheck(async () => {
      const stage = startFrom([{ ok: true as const, value: 1 }], (n: number) => n, {
        weight: () => {
          throw 42;
        },
      });
      const out = await collect(stage);
      assert.equal(out.length, 1);
      assert.ok(!out[0]!.ok && out[0]!.error instanceof PanicError);
      await stage.wait();
      assert.equal(stage.stats().forwarded, 1);
    }),
  );
});
