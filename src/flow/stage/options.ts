/**
 * The options of `start` and `pipe`, and their validation. Every bad option is an
 * `InvalidOptionError` with one message naming it, thrown by `start`/`pipe` before anything runs.
 */
import type { Clock } from '../../proc/index.js';
import { checkInt, checkSignal, invalid } from '../validate.js';

/**
 * A stage's work: called once per admitted item with the stage's signal (aborted on fail-fast or
 * when the stage's own `signal` aborts — never by a submit's signal). It may return the result or
 * a promise of it. Throwing an `Error` (or rejecting with one) makes an error result; throwing
 * anything else is a panic (see `PanicError`).
 */
export type StageFn<T, R> = (item: T, signal: AbortSignal) => Promise<R> | R;

/** The options of `start` and `startFrom`. Every one is checked before anything starts. */
export interface StageOptions<T> {
  /**
   * Items that may wait in the input queue. 0 is unbuffered: a submit waits until a worker takes
   * the item. Total WIP is at most `capacity + workers`.
   * @default 0
   */
  capacity?: number;
  /**
   * Calls of `fn` in flight at once (async concurrency on the one JS thread, not threads); an
   * integer >= 1.
   * @default 1
   */
  workers?: number;
  /**
   * The rope: how many items may be admitted at once (queued, in `fn`, or holding a result not
   * yet taken from `out()`). Clamped to `[1, capacity + workers]`; 0 means the default.
   * @default capacity + workers
   */
  maxWIP?: number;
  /**
   * Limit on the summed `weight` of admitted items; 0 turns it off.
   * @default 0
   */
  maxWIPWeight?: number;
  /**
   * An item's cost, called once per submit (keep it cheap and pure). It feeds
   * `Stats.inFlightWeight`/`admittedWeight` and, when `maxWIPWeight > 0`, admission. Must return
   * a finite number >= 0 (else the submit rejects with `InvalidOptionError`); a throw rejects the
   * submit with what it threw (a non-Error wrapped in `PanicError`).
   * @default every item weighs 1
   */
  weight?: (item: T) => number;
  /**
   * Keep going after `fn` fails (each failure is still an error result); otherwise the first
   * failure stops the stage (fail-fast).
   * @default false
   */
  continueOnError?: boolean;
  /**
   * Record each item's service time in an HDR histogram (`Stats.serviceTimeDist`); every call is
   * then timed.
   * @default false
   */
  trackServiceTime?: boolean;
  /**
   * The clock the stage measures its times with (service, idle, output-blocked and WIP-wait
   * times, and the service-time histogram). Tests and simulations inject a fake one.
   * @default systemClock (`performance.now()`)
   */
  clock?: Clock;
  /**
   * The stage's life: aborting it cancels the stage (`fn` sees it; queued items become canceled
   * results; submits are rejected with `ClosedError`).
   * @default none: the stage lives until its input is closed and drained
   */
  signal?: AbortSignal;
}

/** Per-submit options. */
export interface SubmitOptions {
  /**
   * Bounds only the wait for admission; once admitted, the item is processed regardless.
   * @default none
   */
  signal?: AbortSignal;
}

/** Options validated and defaulted. */
export interface ResolvedOptions<T> {
  capacity: number;
  workers: number;
  maxWIP: number;
  /** The maxWIP asked for (0 = default), kept so the clamp can follow setWorkers. */
  requestedMaxWIP: number;
  maxWIPWeight: number;
  weight: ((item: T) => number) | undefined;
  continueOnError: boolean;
  trackServiceTime: boolean;
  signal: AbortSignal | undefined;
  now: () => number;
}

/** Validates `options` and fills in defaults; throws `InvalidOptionError` on bad input. */
export function resolveOptions<T>(options: StageOptions<T> | undefined): ResolvedOptions<T> {
  const o = options ?? {};
  if (typeof o !== 'object') throw invalid('options', 'must be an object', o);
  const capacity = o.capacity === undefined ? 0 : checkInt('capacity', o.capacity, 0);
  const workers = o.workers === undefined ? 1 : checkInt('workers', o.workers, 1);
  const requestedMaxWIP = o.maxWIP === undefined ? 0 : checkInt('maxWIP', o.maxWIP, 0);
  const maxWIPWeight = o.maxWIPWeight === undefined ? 0 : o.maxWIPWeight;
  if (typeof maxWIPWeight !== 'number' || !(maxWIPWeight >= 0) || !Number.isFinite(maxWIPWeight)) {
    throw invalid('maxWIPWeight', 'must be a finite number >= 0', o.maxWIPWeight);
  }
  if (o.weight !== undefined && typeof o.weight !== 'function') {
    throw invalid('weight', 'must be a function', o.weight);
  }
  return {
    capacity,
    workers,
    requestedMaxWIP,
    maxWIP: clampWIP(requestedMaxWIP, capacity + workers),
    maxWIPWeight,
    weight: o.weight,
    continueOnError: o.continueOnError === true,
    trackServiceTime: o.trackServiceTime === true,
    signal: checkSignal('signal', o.signal),
    now: clockNow(o.clock),
  };
}

/** toc's clamp: 0 means the ceiling; otherwise max(1, min(n, ceiling)). */
export function clampWIP(requested: number, ceiling: number): number {
  if (requested <= 0) return Math.max(1, ceiling);
  return Math.max(1, Math.min(requested, ceiling));
}

/**
 * The stage's time source: the injected clock's `now`, else `performance.now()` on the
 * `performance` object of the moment the stage starts. `globalThis.performance` is an accessor
 * in Node, and reading it costs about a fifth of a clock read; a stage with `trackServiceTime`
 * reads the clock twice per item.
 */
function clockNow(clock: unknown): () => number {
  if (clock === undefined) {
    const perf = performance;
    return () => perf.now();
  }
  if (clock === null || typeof (clock as Clock).now !== 'function') {
    throw invalid('clock', 'must be a Clock (an object with now())', clock);
  }
  const c = clock as Clock;
  return () => c.now();
}
