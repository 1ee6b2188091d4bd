/**
 * `batcher`: gathers up to `n` ok values into arrays between stages (toc's Batcher).
 */

import type { Source } from '../stage/feeder.js';
import { type Stats, zeroStats } from '../stats.js';
import { checkInt, checkSignal } from '../validate.js';
import { BatchHandle, BatchLoop } from './batch-loop.js';
import type { OperatorOptions } from './channel.js';

/** A batcher's counters. After `wait()`: received = emitted + forwarded + dropped. */
export interface BatcherStats {
  /** Items read from the source (ok or error). */
  received: number;
  /** Ok items that went out inside a batch. */
  emitted: number;
  /** Error results passed on. */
  forwarded: number;
  /** Items lost to cancel (partial batch included). */
  dropped: number;
  /** Items gathered in the batch being built. */
  bufferedDepth: number;
  /** Batches emitted. */
  batchCount: number;
  /** Time spent waiting for the reader to take a batch, cumulative (ms). */
  outputBlockedTimeMs: number;
}

/**
 * Reads `source` and emits `ok(batch)` arrays of up to `n` ok values, in order, on `out()`.
 * An error result is a batch boundary: the gathered batch is flushed, then the error is
 * forwarded, and a fresh batch starts. The last partial batch is flushed at the end. There is no
 * time-based flush: up to n-1 items may wait for more.
 *
 * Source ownership: the source is read to its end, provided `out()` is drained (or the signal
 * aborts) and the source ends. On abort the batcher reads on, drops everything (partial batch
 * included) and sends nothing more; `wait()` then rejects with the abort reason if anything was
 * dropped. An undrained `out()` stalls it (and so its source), unless the signal aborts.
 *
 * Throws an `InvalidOptionError` if `n` is not an integer >= 1, or for a bad source or signal.
 *
 * @example
 * ```ts
 * const batches = batcher(fromIterable([1, 2, 3, 4, 5]), 2);
 * for await (const r of batches) if (r.ok) console.log(r.value); // [1, 2], [3, 4], [5]
 * await batches.wait();
 * ```
 */
export function batcher<T>(source: Source<T>, n: number, options?: OperatorOptions): Batcher<T> {
  checkInt('n', n, 1);
  return new Batcher(
    new BatchLoop<T>(source, n, undefined, checkSignal('signal', options?.signal)),
  );
}

/** A running batcher (made by `batcher`). */
export class Batcher<T> extends BatchHandle<T> {
  /** A snapshot of the counters. */
  stats(): BatcherStats {
    const c = this.loop.c;
    return {
      received: c.received,
      emitted: c.emitted,
      forwarded: c.forwarded,
      dropped: c.dropped,
      bufferedDepth: c.bufferedDepth,
      batchCount: c.batchCount,
      outputBlockedTimeMs: this.loop.out.blockedMs,
    };
  }
}

/**
 * @internal A batcher's stats as a stage's `Stats`, for a topology or the analyzer (toc's
 * `ToStats`): received → received, emitted → submitted, batchCount → completed, forwarded,
 * dropped, bufferedDepth and outputBlockedTimeMs as they are; every other field is 0 (workers 1).
 */
export function batcherStatsToStats(s: BatcherStats): Stats {
  return {
    ...zeroStats(),
    submitted: s.emitted,
    completed: s.batchCount,
    received: s.received,
    forwarded: s.forwarded,
    dropped: s.dropped,
    outputBlockedTimeMs: s.outputBlockedTimeMs,
    bufferedDepth: s.bufferedDepth,
    targetWorkers: 1,
    activeWorkers: 1,
  };
}

/** @internal Whether a stats value is a batcher's (it counts batches). */
export function isBatcherStats(s: object): s is BatcherStats {
  return typeof (s as Partial<BatcherStats>).batchCount === 'number';
}
