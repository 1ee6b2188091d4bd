/**
 * The Stage surface as interfaces, so the control half (Topology, autoRope, RopeController,
 * LimitManager, Reporter) works with any stage that has it: flow's own `Stage`, a stage served
 * by remote workers, or a test double.
 */
import { type BatcherStats, batcherStatsToStats, isBatcherStats } from './operators/batcher.js';
import type { Result } from './result.js';
import type { Stats } from './stats.js';

/**
 * What the control half reads and turns on a stage: its `stats()`, and, when present, the knobs
 * a controller may set. `setMaxWIP` lets a rope hold the stage, `setWorkers` lets autoRope
 * elevate it, `pauseAdmission`/`resumeAdmission` let a caller stop the head. A flow `Stage` and
 * every {@link StageLike} fit.
 */
export interface StageHandle {
  /** A snapshot of the stage's counters and gauges. */
  stats(): Stats;
  /** Sets the WIP limit; returns the value applied (the stage may clamp). */
  setMaxWIP?(n: number): number;
  /** Sets how many calls run at once; returns the value applied. */
  setWorkers?(n: number): unknown;
}

/**
 * Anything with flow's Stage surface: it accepts items with `submit`, yields one `Result` per
 * accepted item from `out()`, settles `wait()` when finished, reports `Stats`, and lets a rope
 * set its WIP limit and pause its admission. flow's `Stage` implements it; so can a stage whose
 * workers live elsewhere (in other processes or on other machines), which may then sit in a
 * `Topology` beside local stages and be read by `Analyzer`, `autoRope`, `RopeController`,
 * `LimitManager.forStage` and `Reporter`.
 *
 * The guarantees an implementation must keep are `Stage`'s: exactly one result per `submit` that
 * resolved, none for one that rejected; `submit` rejects with `ClosedError` after `closeInput()`;
 * `out()` must be drained; `wait()` settles only after every result was taken.
 */
export interface StageLike<T = unknown, R = unknown> extends StageHandle {
  /** Offers an item; resolves once it is admitted (then exactly one result will follow). */
  submit(item: T, options?: { signal?: AbortSignal }): Promise<void>;
  /** No more submits; idempotent. */
  closeInput(): void;
  /** The results, one per admitted item; ends after the last. */
  out(): AsyncIterable<Result<R>>;
  /** Settles when the stage has finished; rejects with its fail-fast error. */
  wait(): Promise<void>;
  setMaxWIP(n: number): number;
  /** Holds every new admission; idempotent. */
  pauseAdmission(): void;
  /** Lets admission go on; idempotent. */
  resumeAdmission(): void;
}

/**
 * What a stage can be registered with in a `Topology` or a `Reporter`: a stats accessor, a
 * {@link StageHandle} (any {@link StageLike}, such as a flow `Stage`), or a batcher (its
 * `BatcherStats` read as a stage's `Stats`: emitted → submitted, batches → completed).
 */
export type StageSource = (() => Stats) | StageHandle | BatcherLike;

/** A batcher or weighted batcher, as a {@link StageSource}: anything whose `stats()` counts batches. */
export interface BatcherLike {
  /** The batcher's counters. */
  stats(): BatcherStats;
}

/** @internal The stats accessor and handle behind a source; undefined when it is neither. */
export function readSource(
  source: unknown,
): { stats: () => Stats; handle: StageHandle | undefined } | undefined {
  if (typeof source === 'function') return { stats: source as () => Stats, handle: undefined };
  if (source !== null && typeof source === 'object') {
    const h = source as StageHandle | BatcherLike;
    if (typeof h.stats !== 'function') return undefined;
    const read = (): Stats => {
      const s = h.stats();
      return isBatcherStats(s) ? batcherStatsToStats(s) : s;
    };
    // A batcher has no knobs a controller could turn.
    return {
      stats: read,
      handle: 'setMaxWIP' in h || 'setWorkers' in h ? (h as StageHandle) : undefined,
    };
  }
  return undefined;
}
