/**
 * The stage keeps two summary flags for its per-item path: StageCore.open (submit may skip its
 * checks) and Output.calm (next may bind the reader at once). Each may be false while the fields
 * it summarizes all allow the fast path, but must never be true while one of them forbids it.
 * This white-box property drives a stage core through random operations (submits with and
 * without signals, aborted waiters, pause and resume, rope and worker changes, a feeder's
 * forwarded errors and admissions, several readers, discard, close, abort) with sync, microtask and macrotask calls, and checks
 * both implications after every step and inside every call of fn.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { err } from '../../../src/flow/index.js';
import { StageCore } from '../../../src/flow/stage/core.js';
import { resolveOptions } from '../../../src/flow/stage/options.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { assertFinalInvariants } from './stage-helpers.js';

/** The private fields the flags summarize (TypeScript's `private` is compile-time only). */
interface CorePeek {
  open: boolean;
  weightFn: unknown;
  inputClosed: boolean;
  driving: boolean;
  admission: { waiters: { length: number }; paused: boolean; maxWIPWeight: number };
  output: {
    calm: boolean;
    first: unknown;
    outbox: { length: number };
    forwards: { length: number };
    closed: boolean;
    discarding: boolean;
  };
}

function checkSummaries(core: StageCore<number, number>, where: string): void {
  const c = core as unknown as CorePeek;
  if (c.open) {
    const a = c.admission;
    assert.ok(
      c.weightFn === undefined &&
        !c.inputClosed &&
        !c.driving &&
        a.waiters.length === 0 &&
        !a.paused &&
        a.maxWIPWeight === 0,
      `open while a field forbids the fast submit (${where}): ${JSON.stringify({
        weighted: c.weightFn !== undefined,
        inputClosed: c.inputClosed,
        driving: c.driving,
        waiters: a.waiters.length,
        paused: a.paused,
        maxWIPWeight: a.maxWIPWeight,
      })}`,
    );
  }
  const o = c.output;
  if (o.calm) {
    assert.ok(
      o.first === undefined &&
        o.outbox.length === 0 &&
        o.forwards.length === 0 &&
        !o.closed &&
        !o.discarding,
      `calm while a field forbids the fast read (${where}): ${JSON.stringify({
        reading: o.first !== undefined,
        outbox: o.outbox.length,
        forwards: o.forwards.length,
        closed: o.closed,
        discarding: o.discarding,
      })}`,
    );
  }
}

type Op =
  | { op: 'submit' }
  | { op: 'submitSignal'; abortLater: boolean }
  | { op: 'abortWaiters' }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'maxWIPWeight'; n: number }
  | { op: 'maxWIP'; n: number }
  | { op: 'workers'; n: number }
  | { op: 'forward' }
  | { op: 'tryAdmit' }
  | { op: 'lowWater' }
  | { op: 'read' }
  | { op: 'tick' }
  | { op: 'macrotick' }
  | { op: 'closeInput' }
  | { op: 'discard' }
  | { op: 'abort' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ op: 'submit' }), weight: 6 },
  {
    arbitrary: fc.boolean().map<Op>((abortLater) => ({ op: 'submitSignal', abortLater })),
    weight: 2,
  },
  fc.constant<Op>({ op: 'abortWaiters' }),
  fc.constant<Op>({ op: 'pause' }),
  fc.constant<Op>({ op: 'resume' }),
  fc.integer({ min: 0, max: 3 }).map<Op>((n) => ({ op: 'maxWIPWeight', n })),
  fc.integer({ min: 1, max: 4 }).map<Op>((n) => ({ op: 'maxWIP', n })),
  fc.integer({ min: 1, max: 3 }).map<Op>((n) => ({ op: 'workers', n })),
  fc.constant<Op>({ op: 'forward' }),
  fc.constant<Op>({ op: 'tryAdmit' }),
  fc.constant<Op>({ op: 'lowWater' }),
  { arbitrary: fc.constant<Op>({ op: 'read' }), weight: 5 },
  { arbitrary: fc.constant<Op>({ op: 'tick' }), weight: 4 },
  { arbitrary: fc.constant<Op>({ op: 'macrotick' }), weight: 2 },
  fc.constant<Op>({ op: 'closeInput' }),
  fc.constant<Op>({ op: 'discard' }),
  fc.constant<Op>({ op: 'abort' }),
);

type CallTiming = 'sync' | 'micro' | 'macro';
const macro = () => new Promise<void>((r) => setImmediate(r));

describe('flow stage: summary flags', () => {
  test(
    'open and calm are never true while a field they summarize forbids the fast path',
    withLeakCheck(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { minLength: 5, maxLength: 60, size: 'large' }),
          fc.array(fc.constantFrom<CallTiming>('sync', 'micro', 'macro'), { minLength: 1 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 0, max: 3 }),
          fc.boolean(),
          fc.boolean(),
          fc.boolean(),
          async (ops, timings, workers, capacity, weighted, continueOnError, fed) => {
            const ac = new AbortController();
            let calls = 0;
            let core: StageCore<number, number> | undefined;
            // A throw inside fn would only become that item's error result: keep it for later.
            let violation: unknown;
            const fn = (item: number): number | Promise<number> => {
              try {
                checkSummaries(core!, `in fn(${item})`);
              } catch (error) {
                violation ??= error;
              }
              const timing = timings[calls++ % timings.length];
              if (timing === 'sync') return item;
              if (timing === 'micro') return Promise.resolve(item);
              return macro().then(() => item);
            };
            core = new StageCore<number, number>(
              fn,
              resolveOptions<number>({
                workers,
                capacity,
                continueOnError,
                signal: ac.signal,
                ...(weighted ? { weight: () => 1 } : {}),
              }),
            );
            // A fed stage (startFrom's) has a feeder that forwards errors and ends with feederDone.
            if (fed) core.attachFeeder();
            const settling: Promise<unknown>[] = [];
            const forwards: Promise<boolean>[] = [];
            const waiterSignals: AbortController[] = [];
            let next = 0;
            checkSummaries(core, 'after start');
            for (const o of ops) {
              switch (o.op) {
                case 'submit':
                  settling.push(core.submit(next++, undefined).catch(() => undefined));
                  break;
                case 'submitSignal': {
                  const w = new AbortController();
                  if (o.abortLater) waiterSignals.push(w);
                  settling.push(core.submit(next++, w.signal).catch(() => undefined));
                  break;
                }
                case 'abortWaiters':
                  for (const w of waiterSignals.splice(0)) w.abort(new Error('gave up'));
                  break;
                case 'pause':
                  core.pauseAdmission();
                  break;
                case 'resume':
                  core.resumeAdmission();
                  break;
                case 'maxWIPWeight':
                  core.setMaxWIPWeight(o.n);
                  break;
                case 'maxWIP':
                  core.setMaxWIP(o.n);
                  break;
                case 'workers':
                  if (!core.stopped && !core.finished) core.setWorkers(o.n);
                  break;
                case 'forward':
                  if (fed) forwards.push(core.forward(err(new Error('upstream'))));
                  break;
                case 'tryAdmit':
                  if (fed) core.tryAdmit(next++);
                  break;
                case 'lowWater':
                  if (fed) settling.push(core.lowWater());
                  break;
                case 'read':
                  settling.push(core.output.next());
                  break;
                case 'tick':
                  await Promise.resolve();
                  break;
                case 'macrotick':
                  await macro();
                  break;
                case 'closeInput':
                  core.closeInput();
                  break;
                case 'discard':
                  core.output.discard();
                  break;
                case 'abort':
                  ac.abort(new Error('stop'));
                  break;
              }
              checkSummaries(core, `after ${o.op}`);
              if (violation !== undefined) throw violation;
            }
            // Wind down: the rope let go, input closed, every result dropped; all must settle.
            core.resumeAdmission();
            core.setMaxWIPWeight(0);
            for (const w of waiterSignals.splice(0)) w.abort(new Error('gave up'));
            core.closeInput();
            core.output.discard();
            await Promise.all(forwards);
            if (fed) core.feederDone();
            checkSummaries(core, 'after wind-down');
            await core.done;
            await Promise.all(settling);
            checkSummaries(core, 'at the end');
            if (violation !== undefined) throw violation;
            assertFinalInvariants(core.stats(), 'summaries');
          },
        ),
        { numRuns: 300 },
      );
    }),
  );
});

describe('flow stage: the feeder low-water wait', () => {
  test('a second lowWater() while one waits shares its promise: both settle when the queue drains', async () => {
    const core = new StageCore<number, number>(
      (i) => i,
      resolveOptions<number>({ workers: 1, capacity: 2 }),
    );
    core.attachFeeder();
    const admitted = [
      core.submit(0, undefined),
      core.submit(1, undefined),
      core.submit(2, undefined),
    ];
    await Promise.all(admitted);
    const first = core.lowWater();
    const second = core.lowWater();
    assert.equal(second, first);
    let settled = 0;
    const both = Promise.all([first, second]).then(() => settled++);
    await Promise.resolve();
    assert.equal(settled, 0, 'the queue is still above half');
    core.output.discard();
    await both;
    core.closeInput();
    core.feederDone();
    await core.done;
    assert.equal(settled, 1);
  });
});
