import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  batcher,
  err,
  fromIterable,
  join,
  MissingResultError,
  merge,
  ok,
  PanicError,
  type Result,
  tee,
  weightedBatcher,
} from '../../../src/flow/index.js';
import { batcherStatsToStats } from '../../../src/flow/operators/batcher.js';
import { InvalidOptionError } from '../../../src/proc/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { collect, isSettled, settle, show } from '../stage/stage-helpers.js';

/** An async source that yields `items` and reports when it was read to its end. */
function source<T>(items: Result<T>[]) {
  const state = { read: 0, ended: false };
  async function* gen(): AsyncGenerator<Result<T>> {
    for (const r of items) {
      state.read++;
      yield r;
    }
    state.ended = true;
  }
  return { it: gen(), state };
}

/** A source the test feeds by hand. */
function manual<T>() {
  const queue: (Result<T> | null)[] = [];
  let wake: (() => void) | undefined;
  const it = (async function* (): AsyncGenerator<Result<T>> {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const x = queue.shift()!;
      if (x === null) return;
      yield x;
    }
  })();
  return {
    it,
    push(x: Result<T> | null) {
      queue.push(x);
      wake?.();
    },
  };
}

describe('flow operators: fromIterable', () => {
  test('lifts sync and async iterables into ok results; a throw ends with one error', async () => {
    assert.deepEqual(show(await collect(fromIterable([1, 2, 3]))), ['1', '2', '3']);
    async function* g() {
      yield 'x';
      throw new Error('gen broke');
    }
    assert.deepEqual(show(await collect(fromIterable(g()))), ['"x"', 'error: gen broke']);
    function* s() {
      yield 1;
      throw new Error('sync broke');
    }
    assert.deepEqual(show(await collect(fromIterable(s()))), ['1', 'error: sync broke']);
    assert.throws(() => fromIterable(5 as never), InvalidOptionError);
  });
});

describe('flow operators: batcher', () => {
  test(
    'batches of n, errors are boundaries, the rest flushed at the end',
    withLeakCheck(async () => {
      const src = source<number>([
        ok(1),
        ok(2),
        ok(3),
        err(new Error('e')),
        ok(4),
        ok(5),
        ok(6),
        ok(7),
      ]);
      const b = batcher(src.it, 2);
      assert.deepEqual(show(await collect(b)), ['[1,2]', '[3]', 'error: e', '[4,5]', '[6,7]']);
      await b.wait();
      const s = b.stats();
      assert.deepEqual(
        { ...s, outputBlockedTimeMs: 0 },
        {
          received: 8,
          emitted: 7,
          forwarded: 1,
          dropped: 0,
          bufferedDepth: 0,
          batchCount: 4,
          outputBlockedTimeMs: 0,
        },
      );
      assert.equal(s.received, s.emitted + s.forwarded + s.dropped);
      const st = batcherStatsToStats(s);
      assert.equal(st.submitted, 7);
      assert.equal(st.completed, 4);
      assert.throws(() => batcher(src.it, 0), InvalidOptionError);
    }),
  );

  test(
    'cancel: never drained, aborted — upstream is still read to its end, everything dropped',
    withLeakCheck(async () => {
      const src = source<number>(Array.from({ length: 10 }, (_, i) => ok(i)));
      const ac = new AbortController();
      const b = batcher(src.it, 3, { signal: ac.signal });
      await settle();
      assert.equal(src.state.read, 3, 'blocked handing over the first batch of 3');
      ac.abort(new Error('cancel'));
      await assert.rejects(b.wait(), /cancel/);
      assert.equal(src.state.ended, true);
      const s = b.stats();
      assert.equal(s.emitted, 0);
      assert.equal(s.received, 10);
      assert.equal(s.received, s.emitted + s.forwarded + s.dropped);
      assert.deepEqual(await collect(b), []);
    }),
  );

  test(
    'weightedBatcher flushes on weight or count, whichever first; a bad weight becomes an error',
    withLeakCheck(async () => {
      const items = [5, 4, 3, 0, 0, 0, 0, 9, -1, 2].map((x) => ok(x));
      const b = weightedBatcher(source(items).it, 4, (x: number) => x);
      assert.deepEqual(show(await collect(b)), [
        '[5]',
        '[4]',
        '[3,0,0,0]', // the count reached the threshold first
        '[0,9]',
        'error: weightFn(item): must return a finite number >= 0, got -1',
        '[2]',
      ]);
      await b.wait();
      const s = b.stats();
      assert.equal(s.received, s.emitted + s.forwarded + s.dropped);
      assert.equal(s.bufferedWeight, 0);
    }),
  );
});

describe('flow operators: tee', () => {
  test(
    'broadcasts every item to every branch, branch 0 first; payloads are shared, not copied',
    withLeakCheck(async () => {
      const payload = { n: 1 };
      const t = tee(source([ok(payload), ok({ n: 2 })]).it, 3);
      const [a, b, c] = await Promise.all([0, 1, 2].map((i) => collect(t.branch(i))));
      assert.deepEqual(show(a!), ['{"n":1}', '{"n":2}']);
      assert.equal(b!.length, 2);
      assert.equal((a![0] as { value: unknown }).value, (c![0] as { value: unknown }).value);
      await t.wait();
      const s = t.stats();
      assert.equal(s.fullyDelivered, 2);
      assert.deepEqual(s.branchDelivered, [2, 2, 2]);
      assert.throws(() => t.branch(3), InvalidOptionError);
    }),
  );

  test(
    'pinned: an abandoned branch stalls the tee; abort makes the item partial, the rest undelivered',
    withLeakCheck(async () => {
      const src = source<number>([ok(1), ok(2), ok(3)]);
      const ac = new AbortController();
      const t = tee(src.it, 2, { signal: ac.signal });
      const first = t.branch(0).next();
      assert.deepEqual(show([(await first).value!]), ['1']);
      const second = t.branch(0).next();
      assert.equal(await isSettled(second), false, 'branch 1 never reads: item 2 cannot start');
      assert.equal(src.state.read, 1);
      ac.abort(new Error('enough'));
      await assert.rejects(t.wait(), /enough/);
      assert.equal(src.state.ended, true, 'source drained after cancel');
      const s = t.stats();
      assert.equal(s.received, 3);
      assert.equal(s.partiallyDelivered, 1);
      assert.equal(s.undelivered, 2);
      assert.equal(s.fullyDelivered, 0);
      assert.deepEqual(s.branchDelivered, [1, 0]);
      assert.deepEqual(await second, { value: undefined, done: true });
    }),
  );

  test(
    'a branch whose reader breaks out is abandoned: the others go on',
    withLeakCheck(async () => {
      const t = tee(source([ok(1), ok(2), ok(3)]).it, 2);
      const a = (async () => {
        for await (const _ of t.branch(0)) break;
      })();
      const b = collect(t.branch(1));
      await a;
      assert.deepEqual(show(await b), ['1', '2', '3']);
      await t.wait();
      assert.equal(t.stats().fullyDelivered, 3);
    }),
  );
});

describe('flow operators: merge', () => {
  test(
    'forwards every item, keeps each source order; stats per source',
    withLeakCheck(async () => {
      const m = merge(
        source([ok('a1'), ok('a2'), ok('a3')]).it,
        [ok('b1'), err<string>(new Error('b2'))],
        fromIterable(['c1']),
      );
      const out = show(await collect(m));
      assert.equal(out.length, 6);
      const a = out.filter((x) => x.includes('a'));
      assert.deepEqual(a, ['"a1"', '"a2"', '"a3"']);
      assert.ok(out.indexOf('"b1"') < out.indexOf('error: b2'));
      await m.wait();
      const s = m.stats();
      assert.deepEqual(s.sourceReceived, [3, 2, 1]);
      assert.deepEqual(s.sourceForwarded, [3, 2, 1]);
      assert.equal(s.received, s.forwarded + s.dropped);
      assert.throws(() => merge(), InvalidOptionError);
    }),
  );

  test(
    'pinned: merge after cancel forwards nothing more; sources are still read to their ends',
    withLeakCheck(async () => {
      const x = manual<number>();
      const y = manual<number>();
      const ac = new AbortController();
      const m = merge(x.it, y.it, { signal: ac.signal });
      const it = m.out();
      x.push(ok(1));
      assert.deepEqual(show([(await it.next()).value!]), ['1']);
      y.push(ok(2)); // waits in the hand-off: nobody reads
      await settle();
      ac.abort('stop');
      x.push(ok(3));
      x.push(null);
      y.push(ok(4));
      y.push(null);
      await assert.rejects(m.wait(), (e) => e === 'stop');
      assert.deepEqual(await it.next(), { value: undefined, done: true });
      const s = m.stats();
      assert.deepEqual(s.sourceForwarded, [1, 0]);
      assert.deepEqual(s.sourceDropped, [1, 2]);
      assert.equal(s.received, s.forwarded + s.dropped);
    }),
  );

  test(
    'a cancel that changed nothing leaves wait() resolved',
    withLeakCheck(async () => {
      const ac = new AbortController();
      const m = merge([ok(1)], { signal: ac.signal });
      assert.equal((await collect(m)).length, 1);
      ac.abort();
      await m.wait();
    }),
  );
});

describe('flow operators: join', () => {
  const A = (r: Result<number>[]) => source(r).it;
  const cases: [string, Result<number>[], Result<number>[], string[]][] = [
    ['ok/ok', [ok(1)], [ok(2)], ['3']],
    ['ok/err', [ok(1)], [err(new Error('eb'))], ['error: eb']],
    ['err/ok', [err(new Error('ea'))], [ok(2)], ['error: ea']],
    ['missing/missing', [], [], []],
  ];
  for (const [name, a, b, expected] of cases) {
    test(`error matrix: ${name}`, async () => {
      const j = join(A(a), A(b), (x: number, y: number) => x + y);
      assert.deepEqual(show(await collect(j)), expected);
      await j.wait();
    });
  }

  test('error matrix: err/err joins both errors', async () => {
    const j = join(
      A([err(new Error('ea'))]),
      A([err(new Error('eb'))]),
      (x: number, y: number) => x + y,
    );
    const [r] = await collect(j);
    assert.ok(r && !r.ok && r.error instanceof AggregateError);
    assert.deepEqual(
      (r.error as AggregateError).errors.map((e: Error) => e.message),
      ['ea', 'eb'],
    );
  });

  test(
    'pinned: join with a missing side — MissingResultError names it, joined with the other error',
    withLeakCheck(async () => {
      const j1 = join(A([ok(1)]), A([]), (x: number, y: number) => x + y);
      const [r1] = await collect(j1);
      assert.ok(r1 && !r1.ok && r1.error instanceof MissingResultError);
      assert.equal((r1.error as MissingResultError).source, 'B');
      assert.deepEqual(
        { ...j1.stats(), outputBlockedTimeMs: 0 },
        {
          receivedA: 1,
          receivedB: 0,
          combined: 0,
          errors: 1,
          discardedA: 1,
          discardedB: 0,
          extraA: 0,
          extraB: 0,
          outputBlockedTimeMs: 0,
        },
      );
      const j2 = join(A([]), A([err(new Error('eb'))]), (x: number, y: number) => x + y);
      const [r2] = await collect(j2);
      assert.ok(r2 && !r2.ok && r2.error instanceof AggregateError);
      const errs = (r2.error as AggregateError).errors;
      assert.ok(errs[0] instanceof MissingResultError && errs[0].source === 'A');
      assert.equal(errs[1].message, 'eb');
      const j3 = join(A([]), A([ok(2)]), (x: number, y: number) => x + y);
      const [r3] = await collect(j3);
      assert.equal((r3 as { error: MissingResultError }).error.source, 'A');
    }),
  );

  test(
    'extras are drained and counted; conservation holds; a throwing combine is the error',
    withLeakCheck(async () => {
      const j = join(A([ok(1), ok(10), ok(100)]), A([ok(2)]), (x: number, y: number) => x * y);
      assert.deepEqual(show(await collect(j)), ['2']);
      await j.wait();
      const s = j.stats();
      assert.equal(s.extraA, 2);
      assert.equal(s.receivedA, s.combined + s.discardedA + s.extraA);
      assert.equal(s.receivedB, s.combined + s.discardedB + s.extraB);
      const bad = join(A([ok(1)]), A([ok(2)]), () => {
        throw 'nope';
      });
      const [r] = await collect(bad);
      assert.ok(r && !r.ok && r.error instanceof PanicError);
      assert.equal(bad.stats().discardedA, 1);
    }),
  );

  test(
    'cancel before both firsts arrive: no output, both sources drained, wait rejects',
    withLeakCheck(async () => {
      const x = manual<number>();
      const ac = new AbortController();
      const j = join(x.it, A([ok(2)]), (p: number, q: number) => p + q, { signal: ac.signal });
      const out = collect(j);
      await settle();
      ac.abort('cancel');
      x.push(ok(1));
      x.push(ok(5));
      x.push(null);
      assert.deepEqual(await out, []);
      await assert.rejects(j.wait(), (e) => e === 'cancel');
      const s = j.stats();
      assert.equal(s.combined + s.errors, 0);
      assert.equal(s.receivedA, s.combined + s.discardedA + s.extraA);
      assert.equal(s.extraA, 1);
    }),
  );
});

describe('flow operators: tee stats', () => {
  test(
    'branchBlockedTimeMs: the time the tee waited for each branch to take an item',
    withLeakCheck(async () => {
      const t = tee(fromIterable(['x']), 2);
      const b1 = t.branch(1).next(); // branch 1's reader waits already: no wait on that side
      // Branch 0 takes nothing yet: the tee is blocked on it.
      while (t.stats().received < 1) await settle(1);
      const since = performance.now();
      while (performance.now() - since < 20) await settle(1);
      assert.equal(t.stats().branchBlockedTimeMs[0], 0, 'counted when the wait ends');
      const first = await t.branch(0).next();
      assert.deepEqual(first.value, { ok: true, value: 'x' });
      assert.deepEqual((await b1).value, { ok: true, value: 'x' });
      const [rest0, rest1] = await Promise.all([collect(t.branch(0)), collect(t.branch(1))]);
      assert.deepEqual([rest0, rest1], [[], []]);
      await t.wait();
      const s = t.stats();
      assert.ok(s.branchBlockedTimeMs[0]! >= 20, `branch 0 blocked ${s.branchBlockedTimeMs[0]} ms`);
      assert.equal(s.branchBlockedTimeMs[1], 0, 'a waiting reader costs no blocked time');
      assert.deepEqual(s.branchDelivered, [1, 1]);
    }),
  );
});
