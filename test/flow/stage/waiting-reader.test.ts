/**
 * A reader waiting in `next()` while the stage's one worker is in a fast async call awaits that
 * call's own settlement (no promise of its own). These tests pin what it must still see: results
 * in the order they were ready, each exactly once, the failing result before canceled ones, the
 * end after a discard, and (in a `startFrom` stage) forwarded errors at once. A fake clock that
 * never moves makes every call "fast", so the path is taken whatever the machine's load.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { err, ok, type Result, start, startFrom } from '../../../src/flow/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { assertFinalInvariants, deferred, gate, isSettled, settle, show } from './stage-helpers.js';

/** A clock that never moves: every timed call took 0 ms, so the stage counts its calls as fast. */
const still = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };

/** Runs `n` quick calls through `stage` so it has timed some and knows they are fast. */
async function warm(
  stage: { submit(n: number): Promise<void> },
  it: AsyncIterator<unknown>,
  n = 20,
) {
  for (let i = 0; i < n; i++) {
    await stage.submit(-1);
    await it.next();
  }
}

describe('flow stage: a reader waiting on the call in flight', () => {
  test(
    'results keep the order they were ready in when a second worker finishes first',
    withLeakCheck(async () => {
      const g = gate((n: number) => n);
      const stage = start(async (n: number) => (n < 0 ? n : g.fn(n)), {
        clock: still,
        capacity: 4,
      });
      const it = stage.out();
      await warm(stage, it);
      await stage.submit(1);
      const first = it.next(); // waits while 1 is in fn
      await settle();
      assert.equal(await isSettled(first), false);
      stage.setWorkers(2);
      await stage.submit(2);
      await settle();
      assert.deepEqual(
        g.calls.map((c) => c.item),
        [1, 2],
      );
      g.release(2); // 2 is ready first ...
      await settle();
      g.release(1); // ... then 1
      const a = (await first).value as Result<number>;
      const b = (await it.next()).value as Result<number>;
      assert.deepEqual([a, b], [ok(2), ok(1)]);
      stage.closeInput();
      assert.equal((await it.next()).done, true);
      await stage.wait();
      const s = stage.stats();
      assert.equal(s.completed, 22);
      assertFinalInvariants(s);
    }),
  );

  test(
    'several waiting readers each get exactly one result, in the order they asked',
    withLeakCheck(async () => {
      const g = gate((n: number) => n * 10);
      const stage = start(async (n: number) => (n < 0 ? n : g.fn(n)), {
        clock: still,
        capacity: 4,
      });
      const it = stage.out();
      await warm(stage, it);
      await stage.submit(1);
      await stage.submit(2);
      const reads = [it.next(), it.next(), it.next()];
      await settle();
      g.release(1);
      await settle();
      g.release(2);
      await settle();
      stage.closeInput();
      const got = await Promise.all(reads);
      assert.deepEqual(
        got.map((r) => (r.done ? 'end' : show([r.value])[0])),
        ['10', '20', 'end'],
      );
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );

  test(
    'fail-fast: the failing result first, then a canceled one for each queued item',
    withLeakCheck(async () => {
      const boom = new Error('boom');
      const d = deferred<number>();
      const stage = start(async (n: number) => (n < 0 ? n : n === 1 ? d.promise : n), {
        clock: still,
        capacity: 4,
      });
      const it = stage.out();
      await warm(stage, it);
      await stage.submit(1);
      await stage.submit(2);
      await stage.submit(3);
      const first = it.next();
      await settle();
      d.reject(boom);
      const results: Result<number>[] = [];
      for (let r = await first; !r.done; r = await it.next()) results.push(r.value);
      assert.deepEqual(show(results), ['error: boom', 'error: boom', 'error: boom']);
      await assert.rejects(stage.wait(), boom);
      const s = stage.stats();
      assert.equal(s.failed, 1);
      assert.equal(s.canceled, 2);
      assertFinalInvariants(s);
    }),
  );

  test(
    'a discard while a reader waits: that reader sees the end once the call settles; counts stay exact',
    withLeakCheck(async () => {
      const g = gate((n: number) => n);
      const stage = start(async (n: number) => (n < 0 ? n : g.fn(n)), {
        clock: still,
        capacity: 4,
      });
      const it = stage.out();
      await warm(stage, it);
      await stage.submit(1);
      const waiting = it.next();
      await settle();
      stage.closeInput();
      const finished = stage.discardAndWait();
      g.release(1);
      assert.equal((await waiting).done, true);
      await finished;
      assert.equal((await it.next()).done, true);
      const s = stage.stats();
      assert.equal(s.completed, 21);
      assertFinalInvariants(s);
    }),
  );

  test(
    'startFrom: a forwarded error reaches a waiting reader while the call before it is still in fn',
    withLeakCheck(async () => {
      const g = gate((n: number) => n);
      const next = deferred<void>();
      async function* src(): AsyncGenerator<Result<number>> {
        for (let i = 0; i < 20; i++) yield ok(-1);
        yield ok(1);
        await next.promise;
        yield err<number>(new Error('upstream'));
      }
      const stage = startFrom(src(), async (n: number) => (n < 0 ? n : g.fn(n)), { clock: still });
      const it = stage.out();
      for (let i = 0; i < 20; i++) await it.next();
      while (g.calls.length === 0) await settle(1);
      const waiting = it.next(); // while item 1 is in fn
      next.resolve();
      const r = await waiting; // item 1 is still in fn
      assert.deepEqual(show([r.value as Result<number>]), ['error: upstream']);
      g.release(1);
      assert.deepEqual((await it.next()).value, ok(1));
      assert.equal((await it.next()).done, true);
      await stage.wait();
      assertFinalInvariants(stage.stats());
    }),
  );
});
