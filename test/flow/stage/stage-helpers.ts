/** Helpers for flow's stage and operator tests. */
import assert from 'node:assert/strict';
import type { Result, Stats } from '../../../src/flow/index.js';

/** Every item of an async iterable, in order. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The values of ok results and the messages of error results, in order. */
export function show<T>(results: Result<T>[]): string[] {
  return results.map((r) =>
    r.ok ? JSON.stringify(r.value) : `error: ${(r.error as Error)?.message ?? String(r.error)}`,
  );
}

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Lets every queued microtask and one macrotask turn run: enough for a stage to settle whatever
 * is already decidable (no timers involved).
 */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Whether a promise has settled by now (after `settle`). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await settle();
  return done;
}

/** A controllable async fn: each call waits until the test releases it (FIFO or by item). */
export function gate<T, R>(f: (item: T) => R) {
  const calls: { item: T; d: Deferred<void> }[] = [];
  let running = 0;
  let maxRunning = 0;
  const fn = async (item: T) => {
    const d = deferred();
    calls.push({ item, d });
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      await d.promise;
      return f(item);
    } finally {
      running--;
    }
  };
  return {
    fn,
    calls,
    get running() {
      return running;
    },
    get maxRunning() {
      return maxRunning;
    },
    /** Releases the call for `item` (throws if fn was not called with it). */
    release(item: T) {
      const c = calls.find((x) => x.item === item);
      if (!c) throw new Error(`fn was not called with ${String(item)}`);
      c.d.resolve();
    },
    releaseAll() {
      for (const c of calls) c.d.resolve();
    },
  };
}

/** The invariants every stage keeps once wait() settled. */
export function assertFinalInvariants(s: Stats, label = ''): void {
  assert.equal(s.submitted, s.completed + s.canceled, `${label} submitted = completed + canceled`);
  assert.ok(
    s.failed <= s.completed && s.panicked <= s.failed,
    `${label} panicked <= failed <= completed`,
  );
  assert.equal(s.bufferedDepth, 0, `${label} bufferedDepth`);
  assert.equal(s.inFlightWeight, 0, `${label} inFlightWeight`);
  assert.equal(s.admitted, 0, `${label} admitted`);
  assert.equal(s.admittedWeight, 0, `${label} admittedWeight`);
  assert.equal(s.waiterCount, 0, `${label} waiterCount`);
  assert.equal(s.activeWorkers, 0, `${label} activeWorkers`);
  if (s.received > 0) {
    assert.equal(s.received, s.submitted + s.forwarded + s.dropped, `${label} received`);
  }
  if (s.serviceTimeDist) {
    const d = s.serviceTimeDist;
    assert.equal(d.count + d.underflow + d.overflow, s.completed, `${label} histogram count`);
  }
}
