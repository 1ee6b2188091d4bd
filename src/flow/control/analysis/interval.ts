/**
 * Interval metrics: what a stage did between two `Stats` snapshots (toc's Delta and
 * IntervalStats), and a sampler that takes those snapshots for every stage of a topology.
 */

import { type Stats, zeroStats } from '../../stats.js';
import { type ClockOptions, nowOf } from '../ticker.js';
import type { Topology } from '../topology.js';

/**
 * What one stage did during one interval. Fields named `curr*` are gauges read from the later
 * snapshot; every other field comes from the difference between the two snapshots. Rates are per
 * second; times are milliseconds. Rates are 0 when the interval is not positive or their
 * denominator is 0.
 */
export interface IntervalStats {
  /** Length of the interval in ms. */
  durationMs: number;
  /**
   * A cumulative counter went down between the snapshots: the stage behind the name was
   * replaced (a new stage starts from zero). Every delta is then taken from zero, that is from
   * the later snapshot alone.
   */
  resetDetected: boolean;

  /** Items admitted during the interval. */
  itemsSubmitted: number;
  /** Includes failed and panicked items. */
  itemsCompleted: number;
  /** Items whose result was an error (panics included). */
  itemsFailed: number;
  /** Items dequeued after a stop and never given to `fn`. */
  itemsCanceled: number;

  /** Completed items per second (failures included). */
  throughput: number;
  /** Successful completions per second: (completed − failed) / elapsed. */
  goodput: number;
  /** Submitted items per second. */
  arrivalRate: number;
  /** failed / completed, in [0, 1]. */
  errorRate: number;
  /** serviceTimeDeltaMs / itemsCompleted. */
  meanServiceTimeMs: number;
  /**
   * serviceTimeDeltaMs / (durationMs × average active workers): the share of the stage's
   * concurrency slots that held a call of `fn`. On Node this is slot occupancy, not CPU (see
   * docs/flow.md). Approximate: service time is credited when a call ends, so a long call that
   * spans two intervals lands in the second and the value can pass 1.
   */
  approxUtilization: number;
  /** Average of the two snapshots' active workers. */
  avgWorkers: number;

  /** Time spent in `fn`, summed over workers. */
  serviceTimeDeltaMs: number;
  /** Time workers waited for input, summed over workers. */
  idleTimeDeltaMs: number;
  /** Time results waited for a reader, summed over workers. */
  outputBlockedDeltaMs: number;

  /** Items in the input queue at the end of the interval. */
  currBufferedDepth: number;
  /** The input queue's capacity. */
  currQueueCapacity: number;
  /** bufferedDepth / queueCapacity clamped to [0, 1]; 0 for an unbuffered stage. */
  currBufferPenetration: number;
  /** Workers running at the end of the interval. */
  currActiveWorkers: number;
  /** Workers asked for at the end of the interval. */
  currTargetWorkers: number;
  /** Permits held now: queued, in flight, or results not yet taken. */
  currAdmitted: number;
  /** The WIP limit at the end of the interval. */
  currMaxWIP: number;
  /** Whether admission was paused at the end of the interval. */
  currPaused: boolean;

  /** Change of bufferedDepth per second; negative while the queue drains. */
  queueGrowthRate: number;
}

const COUNTERS = [
  'submitted',
  'completed',
  'failed',
  'canceled',
  'serviceTimeMs',
  'idleTimeMs',
  'outputBlockedTimeMs',
] as const;

/**
 * Computes what a stage did between `prev` and `curr`, taken `elapsedMs` apart. Both snapshots
 * must come from the same stage name. When any cumulative counter decreased, `resetDetected` is
 * set and the interval is measured from zero (the stage was replaced and started counting again),
 * so the deltas stay consistent with each other instead of being clamped one by one.
 *
 * @example
 * ```ts
 * const before = stage.stats();
 * // … one second later …
 * const iv = delta(before, stage.stats(), 1000);
 * console.log(iv.throughput, iv.approxUtilization, iv.currBufferPenetration);
 * ```
 */
export function delta(prev: Stats, curr: Stats, elapsedMs: number): IntervalStats {
  const reset = COUNTERS.some((k) => curr[k] < prev[k]);
  const base = (k: (typeof COUNTERS)[number]) => (reset ? 0 : prev[k]);
  const d = (k: (typeof COUNTERS)[number]) => Math.max(0, curr[k] - base(k));

  const itemsSubmitted = d('submitted');
  const itemsCompleted = d('completed');
  const itemsFailed = Math.min(d('failed'), itemsCompleted);
  const serviceTimeDeltaMs = d('serviceTimeMs');
  const seconds = elapsedMs > 0 ? elapsedMs / 1000 : 0;
  const avgWorkers = reset ? curr.activeWorkers : (prev.activeWorkers + curr.activeWorkers) / 2;
  const prevDepth = reset ? 0 : prev.bufferedDepth;

  let penetration = 0;
  if (curr.queueCapacity > 0) {
    penetration = Math.min(1, Math.max(0, curr.bufferedDepth / curr.queueCapacity));
  }

  return {
    durationMs: elapsedMs,
    resetDetected: reset,
    itemsSubmitted,
    itemsCompleted,
    itemsFailed,
    itemsCanceled: d('canceled'),
    throughput: seconds > 0 ? itemsCompleted / seconds : 0,
    goodput: seconds > 0 ? (itemsCompleted - itemsFailed) / seconds : 0,
    arrivalRate: seconds > 0 ? itemsSubmitted / seconds : 0,
    errorRate: itemsCompleted > 0 ? itemsFailed / itemsCompleted : 0,
    meanServiceTimeMs: itemsCompleted > 0 ? serviceTimeDeltaMs / itemsCompleted : 0,
    approxUtilization:
      elapsedMs > 0 && avgWorkers > 0 ? serviceTimeDeltaMs / (elapsedMs * avgWorkers) : 0,
    avgWorkers,
    serviceTimeDeltaMs,
    idleTimeDeltaMs: d('idleTimeMs'),
    outputBlockedDeltaMs: d('outputBlockedTimeMs'),
    currBufferedDepth: curr.bufferedDepth,
    currQueueCapacity: curr.queueCapacity,
    currBufferPenetration: penetration,
    currActiveWorkers: curr.activeWorkers,
    currTargetWorkers: curr.targetWorkers,
    currAdmitted: curr.admitted,
    currMaxWIP: curr.maxWIP,
    currPaused: curr.paused,
    queueGrowthRate: seconds > 0 ? (curr.bufferedDepth - prevDepth) / seconds : 0,
  };
}

/** Where a sampler reads stats: a frozen topology, or named accessors. */
export type StatsSources = Topology | Record<string, () => Stats> | Map<string, () => Stats>;

function accessors(sources: StatsSources): Map<string, () => Stats> {
  if (sources instanceof Map) return new Map(sources);
  if (typeof (sources as Topology).stageStats === 'function' && 'frozen' in sources) {
    const topo = sources as Topology;
    return new Map(topo.stages().map((n) => [n, topo.stageStats(n)] as const));
  }
  return new Map(Object.entries(sources as Record<string, () => Stats>));
}

/**
 * Takes a `Stats` snapshot of every stage each time `sample()` is called and keeps the interval
 * since the previous call. The first call only sets the baseline (its intervals have
 * `durationMs` 0 and all rates 0). `get(name)` / `snapshot` return the latest interval, which is
 * what `RopeController`'s `snapshot` option expects. Reads happen synchronously in one turn of
 * the event loop, so the snapshots of one call are mutually consistent.
 */
export class IntervalSampler {
  readonly #sources: Map<string, () => Stats>;
  readonly #now: () => number;
  readonly #last = new Map<string, Stats>();
  readonly #intervals = new Map<string, IntervalStats>();
  #lastAt: number | undefined;

  constructor(sources: StatsSources, options: ClockOptions = {}) {
    this.#sources = accessors(sources);
    this.#now = nowOf(options);
  }

  /** The stage names sampled, in order. */
  get names(): string[] {
    return [...this.#sources.keys()];
  }

  /** Whether a baseline has been taken. */
  get primed(): boolean {
    return this.#lastAt !== undefined;
  }

  /** Reads every stage now and returns the intervals since the previous call. */
  sample(): Map<string, IntervalStats> {
    const at = this.#now();
    const elapsed = this.#lastAt === undefined ? 0 : at - this.#lastAt;
    for (const [name, read] of this.#sources) {
      const curr = read();
      const prev = this.#last.get(name) ?? curr;
      this.#intervals.set(name, delta(prev, curr, elapsed));
      this.#last.set(name, curr);
    }
    this.#lastAt = at;
    return new Map(this.#intervals);
  }

  /** The latest interval of `name` (all zero before the first `sample()`). */
  get(name: string): IntervalStats {
    return this.#intervals.get(name) ?? delta(zeroStats(), zeroStats(), 0);
  }

  /** The latest raw snapshot of `name`, or undefined before the first `sample()`. */
  stats(name: string): Stats | undefined {
    return this.#last.get(name);
  }

  /** `get` bound to this sampler, for `RopeController({ snapshot })`. */
  readonly snapshot = (name: string): IntervalStats => this.get(name);
}
