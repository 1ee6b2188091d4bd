import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClosedError,
  err,
  ok,
  PanicError,
  type Result,
  start,
  startFrom,
} from '../../../src/flow/index.js';
import { InvalidOptionError } from '../../../src/proc/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import {
  assertFinalInvariants,
  collect,
  deferred,
  gate,
  isSettled,
  settle,
  show,
} from './stage-helpers.js';

describe('flow stage: lifecycle', () => {
  test(
    'submit, closeInput, drain, wait: one result per submit, in order with one worker',
    withLeakCheck(async () => {
      const stage = start((s: string) => s + s, { capacity: 3 });
      const producer = (async () => {
        for (const x of ['a', 'b', 'c']) await stage.submit(x);
        stage.closeInput();
      })();
      assert.deepEqual(show(await collect(stage.out())), ['"aa"', '"bb"', '"cc"']);
      await producer;
      await stage.wait();
      assert.equal(await stage.cause(), undefined);
      const s = stage.stats();
      assert.equal(s.submitted, 3);
      assert.equal(s.completed, 3);
      assert.equal(s.queueCapacity, 3);
      assert.equal(s.maxWIP, 4);
      assertFinalInvariants(s);
    }),
  );

  test(
    'async fn, several workers: every result arrives once, concurrency bounded by workers',
    withLeakCheck(async () => {
      const g = gate((n: number) => n * 10);
      const stage = start(g.fn, { workers: 3, capacity: 10 });
      for (let i = 0; i < 8; i++) await stage.submit(i);
      stage.closeInput();
      await settle();
      assert.equal(g.running, 3);
      const all = collect(stage.out());
      for (let i = 7; i >= 0; i--) {
        await settle(1);
        if (g.calls.some((c) => c.item === i)) g.release(i);
      }
      g.releaseAll();
      await settle();
      g.releaseAll();
      const values = (await all).map((r) => (r.ok ? r.value : -1)).sort((a, b) => a - b);
      assert.deepEqual(values, [0, 10, 20, 30, 40, 50, 60, 70]);
      assert.equal(g.maxRunning, 3);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );

  test('the stage is async-iterable itself; out() returns the same iterator', () => {
    const stage = start((x: number) => x);
    assert.equal(stage.out(), stage[Symbol.asyncIterator]());
    stage.closeInput();
  });

  test(
    'wait does not settle while results are not taken (the drain rule)',
    withLeakCheck(async () => {
      const stage = start((x: number) => x, { capacity: 2 });
      await stage.submit(1);
      await stage.submit(2);
      stage.closeInput();
      const w = stage.wait();
      assert.equal(await isSettled(w), false);
      assert.equal(stage.stats().admitted, 2, 'results not taken keep their permits');
      assert.deepEqual(show(await collect(stage)), ['1', '2']);
      await w;
    }),
  );

  test(
    'breaking out of for-await abandons the output: the rest is dropped and the stage ends',
    withLeakCheck(async () => {
      const stage = start((x: number) => x, { capacity: 5 });
      for (let i = 0; i < 5; i++) await stage.submit(i);
      stage.closeInput();
      const seen: number[] = [];
      for await (const r of stage) {
        if (r.ok) seen.push(r.value);
        if (seen.length === 2) break;
      }
      assert.deepEqual(seen, [0, 1]);
      await stage.wait();
      assert.equal(stage.stats().completed, 5);
      assert.deepEqual(await stage.out().next(), { value: undefined, done: true });
    }),
  );

  test(
    'discardAndWait and discardAndCause drain without a reader',
    withLeakCheck(async () => {
      const a = start((x: number) => x, { capacity: 3 });
      for (let i = 0; i < 3; i++) await a.submit(i);
      a.closeInput();
      await a.discardAndWait();
      assertFinalInvariants(a.stats());

      const boom = new Error('boom');
      const b = start(
        (x: number) => {
          if (x === 1) throw boom;
          return x;
        },
        { capacity: 3 },
      );
      for (let i = 0; i < 3; i++) await b.submit(i);
      b.closeInput();
      assert.equal(await b.discardAndCause(), boom);
      await assert.rejects(b.wait(), (e) => e === boom);
    }),
  );

  test('bad options and arguments are typed errors with one clear message', () => {
    assert.throws(
      () => start((x: number) => x, { capacity: -1 }),
      /capacity: must be an integer >= 0, got -1/,
    );
    assert.throws(
      () => start((x: number) => x, { workers: 0 }),
      /workers: must be an integer >= 1, got 0/,
    );
    assert.throws(() => start((x: number) => x, { workers: 1.5 }), InvalidOptionError);
    assert.throws(() => start((x: number) => x, { maxWIP: -2 }), InvalidOptionError);
    assert.throws(() => start((x: number) => x, { maxWIPWeight: -1 }), InvalidOptionError);
    assert.throws(() => start('nope' as never), InvalidOptionError);
    assert.throws(() => start((x: number) => x, { signal: {} as AbortSignal }), InvalidOptionError);
    assert.throws(() => startFrom(42 as never, (x: number) => x), /source: must be/);
    const stage = start((x: number) => x);
    assert.throws(() => stage.setWorkers(0), InvalidOptionError);
    stage.closeInput();
  });
});

describe('flow stage: errors and cancellation', () => {
  test(
    'fail-fast: the first error stops the stage; queued items come out canceled with that cause',
    withLeakCheck(async () => {
      const boom = new Error('boom');
      const stage = start(
        (x: number) => {
          if (x === 2) throw boom;
          return x;
        },
        { capacity: 5 },
      );
      for (let i = 1; i <= 5; i++) await stage.submit(i);
      const results = await collect(stage);
      assert.deepEqual(show(results), [
        '1',
        'error: boom',
        'error: boom',
        'error: boom',
        'error: boom',
      ]);
      await assert.rejects(stage.submit(9), ClosedError);
      await assert.rejects(stage.wait(), (e) => e === boom);
      assert.equal(await stage.cause(), boom);
      assert.equal(stage.signal.aborted, true);
      assert.equal(stage.signal.reason, boom);
      const s = stage.stats();
      assert.equal(s.completed, 2);
      assert.equal(s.failed, 1);
      assert.equal(s.canceled, 3);
      assertFinalInvariants(s);
    }),
  );

  test(
    'fail-fast lets work already in fn finish: its success is delivered',
    withLeakCheck(async () => {
      const boom = new Error('boom');
      const g = gate((x: number) => x);
      const stage = start(
        async (x: number, signal: AbortSignal) => {
          if (x === 0) {
            await settle(1);
            throw boom;
          }
          const v = await g.fn(x);
          assert.equal(signal.aborted, true, 'fn sees the stage abort');
          return v;
        },
        { workers: 2, capacity: 2 },
      );
      await stage.submit(1);
      await stage.submit(0);
      await stage.submit(2);
      const all = collect(stage);
      await settle();
      g.releaseAll();
      const results = await all;
      // The failing worker frees first and dequeues item 2 as canceled; item 1 ends later, ok.
      assert.deepEqual(show(results), ['error: boom', 'error: boom', '1']);
      assert.equal(stage.stats().canceled, 1);
      await assert.rejects(stage.wait(), (e) => e === boom);
    }),
  );

  test(
    'continueOnError: every failure is a result; wait resolves',
    withLeakCheck(async () => {
      const stage = start(
        (x: number) => {
          if (x % 2) throw new Error(`odd ${x}`);
          return x;
        },
        { capacity: 4, continueOnError: true },
      );
      for (let i = 0; i < 4; i++) await stage.submit(i);
      stage.closeInput();
      assert.deepEqual(show(await collect(stage)), ['0', 'error: odd 1', '2', 'error: odd 3']);
      await stage.wait();
      assert.equal(await stage.cause(), undefined);
      assert.equal(stage.stats().failed, 2);
    }),
  );

  test(
    'a non-Error throw is a panic: PanicError, counted in panicked and failed',
    withLeakCheck(async () => {
      const stage = start(
        (x: number) => {
          if (x === 1) throw 'bad';
          if (x === 2) return Promise.reject(undefined);
          return x;
        },
        { capacity: 3, continueOnError: true },
      );
      for (let i = 0; i < 3; i++) await stage.submit(i);
      stage.closeInput();
      const r = await collect(stage);
      assert.ok(!r[1]!.ok && r[1]!.error instanceof PanicError);
      assert.equal((r[1] as { error: PanicError }).error.value, 'bad');
      assert.ok(!r[2]!.ok && r[2]!.error instanceof PanicError);
      const s = stage.stats();
      assert.equal(s.failed, 2);
      assert.equal(s.panicked, 2);
      assert.equal(s.completed, 3);
    }),
  );

  test(
    'stage signal abort: closes input, cancels queued items; wait resolves, cause is the reason',
    withLeakCheck(async () => {
      const ac = new AbortController();
      const g = gate((x: number) => x);
      const stage = start(g.fn, { capacity: 2, signal: ac.signal });
      await stage.submit(1);
      await stage.submit(2);
      await stage.submit(3);
      const blocked = stage.submit(4);
      await settle();
      ac.abort(new Error('stop'));
      await assert.rejects(blocked, ClosedError);
      await assert.rejects(stage.submit(5), ClosedError);
      const all = collect(stage);
      g.releaseAll();
      assert.deepEqual(show(await all), ['1', 'error: stop', 'error: stop']);
      await stage.wait();
      assert.equal(((await stage.cause()) as Error).message, 'stop');
      assertFinalInvariants(stage.stats());
    }),
  );

  test(
    'a signal aborted before start: the stage starts closed',
    withLeakCheck(async () => {
      const stage = start((x: number) => x, { signal: AbortSignal.abort('early') });
      await assert.rejects(stage.submit(1), ClosedError);
      await stage.wait();
      assert.equal(await stage.cause(), 'early');
    }),
  );

  test(
    'a fail-fast error before the parent abort wins in cause()',
    withLeakCheck(async () => {
      const ac = new AbortController();
      const boom = new Error('boom');
      const stage = start(
        () => {
          throw boom;
        },
        { signal: ac.signal, capacity: 1 },
      );
      await stage.submit(1);
      ac.abort('later');
      await stage.discardAndWait().catch(() => {});
      assert.equal(await stage.cause(), boom);
    }),
  );

  test(
    'pinned: submit racing closeInput in one tick — admitted if there was room, ClosedError if it had to wait',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { capacity: 1 });
      const a = stage.submit(1); // straight to the idle worker
      const b = stage.submit(2); // into the one queue slot
      const c = stage.submit(3); // must wait
      stage.closeInput();
      await a;
      await b;
      await assert.rejects(c, ClosedError);
      await assert.rejects(stage.submit(4), ClosedError);
      const all = collect(stage);
      g.releaseAll();
      await settle();
      g.releaseAll();
      assert.deepEqual(show(await all), ['1', '2']);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );

  test(
    'pinned: aborting a blocked submit rejects it with the reason; the line moves on',
    withLeakCheck(async () => {
      const g = gate((x: number) => x);
      const stage = start(g.fn, { capacity: 0 });
      await stage.submit(1);
      const ac = new AbortController();
      const b = stage.submit(2, { signal: ac.signal });
      const c = stage.submit(3);
      await settle();
      assert.equal(stage.stats().waiterCount, 2);
      ac.abort(new Error('gave up'));
      await assert.rejects(b, /gave up/);
      assert.equal(stage.stats().waiterCount, 1);
      const all = collect(stage);
      g.release(1);
      await c;
      await settle();
      g.release(3);
      stage.closeInput();
      assert.deepEqual(show(await all), ['1', '3']);
      await assert.rejects(stage.submit(4, { signal: AbortSignal.abort() }), ClosedError);
      const s = stage.stats();
      assert.equal(s.submitted, 2);
      assert.equal(s.wipWaitCount, 2);
      assert.ok(s.wipWaitMs > 0);
      assert.equal(s.maxWaiterCount, 2);
      assertFinalInvariants(s);
    }),
  );

  test(
    'the submit signal bounds admission only: aborting it later does not cancel the item',
    withLeakCheck(async () => {
      const ac = new AbortController();
      let seen: AbortSignal | undefined;
      const stage = start(
        async (x: number, signal: AbortSignal) => {
          seen = signal;
          await settle(1);
          return x;
        },
        { capacity: 1 },
      );
      await stage.submit(7, { signal: ac.signal });
      ac.abort();
      stage.closeInput();
      assert.deepEqual(show(await collect(stage)), ['7']);
      assert.equal(seen, stage.signal);
      assert.equal(seen?.aborted, false);
      await assert.rejects(
        start((x: number) => x).submit(1, { signal: AbortSignal.abort(new Error('pre')) }),
        /pre/,
      );
    }),
  );
});

describe('flow stage: startFrom', () => {
  test(
    'downstream fail-fast does not stop upstream: the upstream stage finishes cleanly',
    withLeakCheck(async () => {
      const up = start((n: number) => n, { capacity: 2 });
      const down = startFrom(up, (n: number) => {
        if (n === 3) throw new Error('down broke');
        return n;
      });
      void (async () => {
        for (let i = 0; i < 10; i++) await up.submit(i);
        up.closeInput();
      })();
      const results = await collect(down);
      await up.wait();
      await assert.rejects(down.wait(), /down broke/);
      assert.equal(up.stats().completed, 10, 'upstream processed everything');
      const s = down.stats();
      assert.equal(s.received, 10);
      assert.equal(results.length, s.submitted + s.forwarded);
      assertFinalInvariants(s);
      assertFinalInvariants(up.stats());
    }),
  );

  test(
    'misuse of a startFrom stage is handled: an external submit is processed, an external closeInput drops the rest',
    withLeakCheck(async () => {
      const gateSrc = deferred();
      async function* src(): AsyncGenerator<Result<number>> {
        yield ok(1);
        await gateSrc.promise;
        yield ok(2);
        yield ok(3);
      }
      const stage = startFrom(src(), (n: number) => n * 10, { capacity: 4 });
      await stage.submit(100);
      await settle();
      assert.equal(stage.stats().received, 1);
      stage.closeInput();
      gateSrc.resolve();
      const values = show(await collect(stage)).sort();
      assert.deepEqual(values, ['10', '1000']);
      await stage.wait();
      const s = stage.stats();
      assert.equal(s.received, 3);
      assert.equal(s.dropped, 2);
      assert.equal(s.submitted, 2, 'the external submit is counted but not received');
    }),
  );

  test(
    'several readers share out(): each result goes to exactly one of them',
    withLeakCheck(async () => {
      const stage = start(async (n: number) => n, { workers: 3, capacity: 10 });
      const readers = [collect(stage), collect(stage.out()), collect(stage)];
      for (let i = 0; i < 30; i++) await stage.submit(i);
      stage.closeInput();
      const all = (await Promise.all(readers)).flat().map((r) => (r.ok ? r.value : -1));
      assert.deepEqual(
        all.sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i),
      );
      await stage.wait();
    }),
  );
  test(
    'ok values go through fn; errors are forwarded ahead of waiting results, never failing the stage',
    withLeakCheck(async () => {
      const stage = startFrom(
        [ok(10), err<number>(new Error('oops')), ok(20)],
        (n: number) => n * 2,
      );
      assert.deepEqual(show(await collect(stage)), ['error: oops', '20', '40']);
      await stage.wait();
      const s = stage.stats();
      assert.equal(s.received, 3);
      assert.equal(s.submitted, 2);
      assert.equal(s.forwarded, 1);
      assertFinalInvariants(s);
    }),
  );

  test(
    'reads an async source; a source that throws ends with its error forwarded',
    withLeakCheck(async () => {
      async function* src(): AsyncGenerator<Result<number>> {
        yield ok(1);
        yield ok(2);
        throw new Error('source broke');
      }
      const stage = startFrom(src(), (n: number) => n + 1, { capacity: 1 });
      assert.deepEqual(show(await collect(stage)), ['2', '3', 'error: source broke']);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );

  test(
    'fail-fast is stage-local: the source is still read to its end and the rest dropped',
    withLeakCheck(async () => {
      let read = 0;
      async function* src(): AsyncGenerator<Result<number>> {
        for (let i = 0; i < 10; i++) {
          read++;
          yield i === 5 ? err(new Error('upstream')) : ok(i);
        }
      }
      const stage = startFrom(
        src(),
        (n: number) => {
          if (n === 2) throw new Error('down');
          return n;
        },
        { capacity: 2 },
      );
      const results = await collect(stage);
      await assert.rejects(stage.wait(), /down/);
      assert.equal(read, 10, 'source drained');
      const s = stage.stats();
      assert.equal(results.length, s.submitted + s.forwarded);
      assert.equal(s.received, 10);
      assert.ok(s.dropped > 0);
      assertFinalInvariants(s);
    }),
  );

  test(
    'pipes compose: the tail is drained, every stage waited in any order',
    withLeakCheck(async () => {
      const a = start((n: number) => n + 1, { capacity: 4 });
      const b = startFrom(a, (n: number) => n * 2, { workers: 2 });
      const c = startFrom(b, (n: number) => `<${n}>`);
      void (async () => {
        for (let i = 0; i < 20; i++) await a.submit(i);
        a.closeInput();
      })();
      const out = await collect(c);
      assert.equal(out.length, 20);
      await a.wait();
      await c.wait();
      await b.wait();
      for (const s of [a.stats(), b.stats(), c.stats()]) assertFinalInvariants(s);
    }),
  );
});

describe('flow stage: capacity 0', () => {
  test(
    'buffered depth is 0 with capacity 0: a submit waits for a worker instead of queueing',
    withLeakCheck(async () => {
      const g = gate((n: number) => n);
      const stage = start(g.fn, { capacity: 0, workers: 1 });
      await stage.submit(1); // straight into the worker
      const second = stage.submit(2);
      await settle();
      assert.equal(await isSettled(second), false, 'no queue slot to wait in');
      let s = stage.stats();
      assert.deepEqual(
        [s.bufferedDepth, s.queueCapacity, s.waiterCount, s.admitted, s.maxWIP],
        [0, 0, 1, 1, 1],
      );
      const out = collect(stage);
      g.release(1);
      await second;
      s = stage.stats();
      assert.equal(s.bufferedDepth, 0, 'the waiter went to the worker, not to a queue');
      stage.closeInput();
      g.releaseAll();
      assert.deepEqual(show(await out), ['1', '2']);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );
});
