/**
 * Goldratt's fever chart for queues (buffer zones) and the buffer a drum needs (toc's BufferZone
 * and BufferCapacity). Pure functions.
 */
import { InvalidOptionError } from '../../../proc/index.js';
import { assertFraction } from '../../validate.js';
import type { IntervalStats } from './interval.js';

/** A buffer's zone on the fever chart. */
export type BufferZone = 'green' | 'yellow' | 'red';

/** Goldratt's thirds: yellow from 0.33, red from 0.66. */
export const DEFAULT_YELLOW_AT = 0.33;
export const DEFAULT_RED_AT = 0.66;

/**
 * The zone of a queue from its penetration, the fraction of its capacity in use
 * (`IntervalStats.currBufferPenetration`, or an `IntervalStats` itself): `red` at or above
 * `redAt`, `yellow` at or above `yellowAt`, `green` below. The boundaries belong to the hotter
 * zone, so exactly 0.33 is yellow and exactly 0.66 is red.
 *
 * Reading it: penetration here is how full a stage's input queue is. A queue in the red is
 * filling faster than its stage drains it, so the stage is the constraint or the rope above it is
 * too loose; a green queue in front of the drum means the drum has little protection and may
 * starve (toc's doc comments say the opposite of its arithmetic for red; sluice documents the
 * arithmetic). Throws an `InvalidOptionError` unless 0 <= yellowAt <= redAt <= 1.
 *
 * @example
 * ```ts
 * bufferZone(0.2); // 'green'
 * bufferZone(0.33); // 'yellow'
 * bufferZone(delta(prev, curr, 1000)); // from the queue's penetration
 * ```
 */
export function bufferZone(
  penetration: number | Pick<IntervalStats, 'currBufferPenetration'>,
  yellowAt = DEFAULT_YELLOW_AT,
  redAt = DEFAULT_RED_AT,
): BufferZone {
  checkThresholds(yellowAt, redAt);
  const p = typeof penetration === 'number' ? penetration : penetration.currBufferPenetration;
  if (p >= redAt) return 'red';
  if (p >= yellowAt) return 'yellow';
  return 'green';
}

/**
 * How many items a buffer must hold to keep the drum busy for `protectionTimeMs`: Goldratt's
 * `ceil(throughput × protectionTime)`, with throughput in items per second. The protection time
 * may come from measured upstream lead time, the drum's p95 service time or configuration.
 * Returns 0 when either argument is not positive.
 *
 * @example
 * ```ts
 * bufferCapacity(48, 250); // 12 items keep the drum busy for 250 ms at 48 items/s
 * ```
 */
export function bufferCapacity(throughputPerSec: number, protectionTimeMs: number): number {
  if (!(throughputPerSec > 0) || !(protectionTimeMs > 0)) return 0;
  return ceilClean(throughputPerSec * (protectionTimeMs / 1000));
}

/**
 * @internal `Math.ceil` after rounding away float noise at the 12th significant digit, so a
 * product that is an integer on paper (25 × 0.28 = 7.000000000000001) is not rounded up.
 */
export function ceilClean(x: number): number {
  return Math.ceil(Number(x.toPrecision(12)));
}

/** @internal Validates a pair of zone thresholds. */
export function checkThresholds(yellowAt: number, redAt: number): void {
  assertFraction('yellowAt', yellowAt);
  assertFraction('redAt', redAt);
  if (yellowAt > redAt) {
    throw new InvalidOptionError(
      'yellowAt',
      `yellowAt (${yellowAt}) must not exceed redAt (${redAt})`,
    );
  }
}
