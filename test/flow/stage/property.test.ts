/**
 * Property tests over random workloads: worker counts, capacities, rope limits, fn timings and
 * failures, several producers, aborts and close timings. For every run: each accepted submit
 * yields exactly one result; with one worker and one producer results keep submit order; admitted
 * items never exceed maxWIP and calls in flight never exceed workers; every stats invariant holds
 * after wait; every promise settles; nothing leaks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { err, ok, type Result, start, startFrom } from '../../../src/flow/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { assertFinalInvariants } from './stage-helpers.js';

type Timing = 'sync' | 'micro' | 'macro';
interface Item {
  id: number;
  timing: Timing;
  fail: boolean;
}

const itemArb = fc.record({
  timing: fc.constantFrom<Timing>('sync', 'micro', 'macro'),
  fail: fc.boolean(),
});

const macro = () => new Promise<void>((r) => setImmediate(r));

/** Rejects if `p` has not settled within `ms` (the timer is always cleared). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not settle: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('flow properties', () => {
  test(
    'start: cardinality, order, WIP bound, invariants, settlement',
    withLeakCheck(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(itemArb, { maxLength: 40 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 4 }),
          fc.integer({ min: 0, max: 6 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 2 }),
          fc.option(fc.integer({ min: 0, max: 50 })),
          fc.option(fc.integer({ min: 0, max: 50 })),
          fc.boolean(),
          async (
            specs,
            workers,
            capacity,
            maxWIP,
            continueOnError,
            producers,
            abortAt,
            closeAt,
            slowReader,
          ) => {
            const items: Item[] = specs.map((s, id) => ({ id, ...s }));
            const ac = new AbortController();
            let running = 0;
            let maxRunning = 0;
            const fn = (it: Item): number | Promise<number> => {
              const body = () => {
                if (it.fail) throw new Error(`fail ${it.id}`);
                return it.id;
              };
              if (it.timing === 'sync') return body();
              running++;
              maxRunning = Math.max(maxRunning, running);
              const wait = it.timing === 'micro' ? Promise.resolve() : macro();
              return wait.then(() => {
                running--;
                return body();
              });
            };
            const stage = start(fn, {
              workers,
              capacity,
              maxWIP,
              continueOnError,
              signal: ac.signal,
            });
            const ceiling = stage.stats().maxWIP;
            assert.ok(ceiling >= 1 && ceiling <= capacity + workers);
            const accepted: number[] = [];
            const submits: Promise<void>[] = [];
            let step = 0;
            const tick = () => {
              step++;
              if (abortAt !== null && step === abortAt) ac.abort(new Error('abort'));
              if (closeAt !== null && step === closeAt) stage.closeInput();
              const s = stage.stats();
              assert.ok(s.admitted <= s.maxWIP, `admitted ${s.admitted} > maxWIP ${s.maxWIP}`);
              assert.ok(s.bufferedDepth <= capacity);
            };
            const lanes = Array.from({ length: producers }, (_, p) =>
              (async () => {
                for (const it of items.filter((x) => x.id % producers === p)) {
                  tick();
                  const sp = stage.submit(it);
                  submits.push(sp);
                  try {
                    await sp;
                    accepted.push(it.id);
                  } catch {
                    // ClosedError: not accepted, no result.
                  }
                }
              })(),
            );
            const done = Promise.all(lanes).then(() => stage.closeInput());
            const results: Result<number>[] = [];
            for await (const r of stage) {
              results.push(r);
              tick();
              if (slowReader) await macro();
            }
            await within(done, 5000, 'producers');
            await within(Promise.allSettled(submits), 5000, 'submits');
            await within(
              stage.wait().catch(() => {}),
              5000,
              'wait',
            );
            await within(stage.cause(), 5000, 'cause');

            assert.equal(results.length, accepted.length, 'one result per accepted submit');
            assert.ok(maxRunning <= workers, 'calls in flight <= workers');
            const s = stage.stats();
            assert.equal(s.submitted, accepted.length);
            assertFinalInvariants(s);
            if (workers === 1 && producers === 1) {
              // A canceled result carries the fail-fast error again (same object): no id of its own.
              const seen = new Set<unknown>();
              const ids = results.map((r) => {
                if (r.ok) return r.value;
                if (seen.has(r.error)) return undefined;
                seen.add(r.error);
                return /^fail (\d+)$/.exec((r.error as Error).message)?.[1];
              });
              const known = ids.filter((x) => x !== undefined).map(Number);
              assert.deepEqual(known, accepted.slice(0, known.length), 'submit order kept');
              const firstCanceled = ids.indexOf(undefined);
              if (firstCanceled >= 0) {
                assert.ok(
                  ids.slice(firstCanceled).every((x) => x === undefined),
                  'canceled come last',
                );
              }
            }
            if (
              !continueOnError &&
              results.some((r) => !r.ok && /^fail/.test((r.error as Error).message))
            ) {
              const c = await stage.cause();
              assert.ok(c instanceof Error);
            }
          },
        ),
        { numRuns: 400 },
      );
    }),
  );

  test(
    'startFrom: received = submitted + forwarded + dropped; every result is one of those; source drained',
    withLeakCheck(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              bad: fc.boolean(),
              fail: fc.boolean(),
              timing: fc.constantFrom<Timing>('sync', 'micro', 'macro'),
            }),
            {
              maxLength: 30,
            },
          ),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 0, max: 3 }),
          fc.boolean(),
          fc.option(fc.integer({ min: 0, max: 30 })),
          fc.boolean(),
          async (specs, workers, capacity, continueOnError, abortAt, asyncSource) => {
            const ac = new AbortController();
            let read = 0;
            const rs: Result<number>[] = specs.map((s, i) =>
              s.bad ? err(new Error(`up ${i}`)) : ok(i),
            );
            const src = asyncSource
              ? (async function* () {
                  for (const r of rs) {
                    read++;
                    if (abortAt !== null && read === abortAt) ac.abort('stop');
                    yield r;
                  }
                })()
              : rs;
            const stage = startFrom(
              src,
              (i: number) => {
                const s = specs[i]!;
                const body = () => {
                  if (s.fail) throw new Error(`fail ${i}`);
                  return i;
                };
                if (s.timing === 'sync') return body();
                return (s.timing === 'micro' ? Promise.resolve() : macro()).then(body);
              },
              { workers, capacity, continueOnError, signal: ac.signal },
            );
            let n = 0;
            for await (const _ of stage) n++;
            await within(
              stage.wait().catch(() => {}),
              5000,
              'wait',
            );
            const s = stage.stats();
            assert.equal(s.received, rs.length, 'source read to its end');
            if (asyncSource) assert.equal(read, rs.length);
            assert.equal(
              n,
              s.submitted + s.forwarded,
              'one result per submitted or forwarded item',
            );
            assertFinalInvariants(s);
          },
        ),
        { numRuns: 400 },
      );
    }),
  );

  test(
    'control calls at random points: setWorkers, setMaxWIP, pause/resume, submit signals',
    withLeakCheck(async () => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('submit' as const),
          timing: fc.constantFrom<Timing>('sync', 'micro', 'macro'),
          abortAfter: fc.option(fc.integer({ min: 0, max: 3 })),
        }),
        fc.record({ kind: fc.constant('workers' as const), n: fc.integer({ min: 1, max: 4 }) }),
        fc.record({ kind: fc.constant('maxWIP' as const), n: fc.integer({ min: 0, max: 6 }) }),
        fc.record({ kind: fc.constant('pause' as const) }),
        fc.record({ kind: fc.constant('resume' as const) }),
        fc.record({ kind: fc.constant('read' as const) }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { maxLength: 50 }),
          fc.integer({ min: 0, max: 3 }),
          async (ops, capacity) => {
            let running = 0;
            let maxRunning = 0;
            let maxWorkers = 1;
            const stage = start(
              (t: Timing) => {
                if (t === 'sync') return 1;
                running++;
                maxRunning = Math.max(maxRunning, running);
                return (t === 'micro' ? Promise.resolve() : macro()).then(() => {
                  running--;
                  return 1;
                });
              },
              { capacity },
            );
            const submits: Promise<boolean>[] = [];
            const controllers: AbortController[] = [];
            const it = stage.out();
            const reads: Promise<IteratorResult<Result<number>>>[] = [];
            for (const o of ops) {
              switch (o.kind) {
                case 'submit': {
                  const ac = new AbortController();
                  controllers.push(ac);
                  submits.push(
                    stage.submit(o.timing, { signal: ac.signal }).then(
                      () => true,
                      () => false,
                    ),
                  );
                  if (o.abortAfter !== null) {
                    const n = o.abortAfter;
                    void (async () => {
                      for (let i = 0; i < n; i++) await Promise.resolve();
                      ac.abort();
                    })();
                  }
                  break;
                }
                case 'workers':
                  maxWorkers = Math.max(maxWorkers, o.n);
                  stage.setWorkers(o.n);
                  break;
                case 'maxWIP': {
                  const applied = stage.setMaxWIP(o.n);
                  assert.ok(applied >= 1 && applied <= capacity + stage.stats().targetWorkers);
                  break;
                }
                case 'pause':
                  stage.pauseAdmission();
                  break;
                case 'resume':
                  stage.resumeAdmission();
                  break;
                case 'read':
                  reads.push(it.next());
                  break;
              }
              await Promise.resolve();
            }
            stage.resumeAdmission();
            stage.closeInput();
            const rest: Result<number>[] = [];
            for await (const r of it) rest.push(r);
            const early = (await within(Promise.all(reads), 5000, 'reads')).filter((r) => !r.done);
            const accepted = (await within(Promise.all(submits), 5000, 'submits')).filter(
              Boolean,
            ).length;
            await within(stage.wait(), 5000, 'wait');
            assert.equal(early.length + rest.length, accepted, 'one result per accepted submit');
            assert.ok(
              maxRunning <= maxWorkers,
              `calls in flight ${maxRunning} > workers ${maxWorkers}`,
            );
            const s = stage.stats();
            assert.equal(s.submitted, accepted);
            assertFinalInvariants(s);
            for (const ac of controllers) ac.abort();
          },
        ),
        { numRuns: 300 },
      );
    }),
  );
});
