/**
 * `weightedBatcher`: gathers ok values into batches by weight (toc's WeightedBatcher).
 */

import type { Source } from '../stage/feeder.js';
import { checkFunction, checkInt, checkSignal } from '../validate.js';
import { BatchHandle, BatchLoop } from './batch-loop.js';
import type { BatcherStats } from './batcher.js';
import type { OperatorOptions } from './channel.js';

/** A weighted batcher's counters: a batcher's, and the weight gathered. */
export interface WeightedBatcherStats extends BatcherStats {
  /** Summed weight of the batch being built. */
  bufferedWeight: number;
}

/**
 * Like `batcher`, but a batch is flushed when its summed `weightFn` reaches `threshold` or its
 * item count reaches `threshold`, whichever comes first (the count bound keeps zero-weight items
 * from piling up without end). Errors are batch boundaries; the rest is flushed at the end.
 * `weightFn` must return a finite number >= 0: where it throws or returns anything else, that
 * item leaves as an error result (an `InvalidOptionError` naming the bad weight) instead of joining a batch,
 * and acts as a boundary. Source ownership, cancel and drain rules are `batcher`'s.
 *
 * Throws an `InvalidOptionError` if `threshold` is not an integer >= 1 or `weightFn` is not a
 * function.
 *
 * @example
 * ```ts
 * const batches = weightedBatcher(fromIterable(['ab', 'cde', 'f']), 4, (s) => s.length);
 * for await (const r of batches) if (r.ok) console.log(r.value); // ['ab', 'cde'], ['f']
 * await batches.wait();
 * ```
 */
export function weightedBatcher<T>(
  source: Source<T>,
  threshold: number,
  weightFn: (item: T) => number,
  options?: OperatorOptions,
): WeightedBatcher<T> {
  checkInt('threshold', threshold, 1);
  checkFunction('weightFn', weightFn);
  const signal = checkSignal('signal', options?.signal);
  return new WeightedBatcher(new BatchLoop<T>(source, threshold, weightFn, signal));
}

/** A running weighted batcher (made by `weightedBatcher`). */
export class WeightedBatcher<T> extends BatchHandle<T> {
  /** A snapshot of the counters. */
  stats(): WeightedBatcherStats {
    const c = this.loop.c;
    return { ...c, outputBlockedTimeMs: this.loop.out.blockedMs };
  }
}
