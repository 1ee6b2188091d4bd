/**
 * Goldratt's five focusing steps as a classification of the current interval (toc's
 * ClassifyStep), and the observation the analyzer reads (toc's Adapt / StageObservation).
 * Pure functions.
 */

import type { Stats } from '../../stats.js';
import { delta, type IntervalStats } from './interval.js';

/**
 * Which of the five focusing steps the system is in. Not a state machine: `classifyStep` reads
 * it off the current signals each interval.
 *
 * - `identify` (1): no constraint is known yet (the analyzer is still collecting windows, or
 *   nothing is saturated).
 * - `exploit` (2): the constraint is known but not yet protected: no rope holds it, or it starves.
 * - `subordinate` (3): the rope is active and the drum is fed; everything else follows its pace.
 * - `elevate` (4): capacity is being added to the constraint (workers moved or added).
 * - `prevent-inertia` (5): the constraint moved. Rebuild the rope for the new drum (a fresh
 *   controller, fresh averages) and do not take workers back from the old drum while the new one
 *   settles: if it was elevated, stealing its workers makes it the constraint again.
 */
export type FocusingStep = 'identify' | 'exploit' | 'subordinate' | 'elevate' | 'prevent-inertia';

/** The steps in Goldratt's order; `FOCUSING_STEPS.indexOf(step) + 1` is the step's number. */
export const FOCUSING_STEPS: readonly FocusingStep[] = [
  'identify',
  'exploit',
  'subordinate',
  'elevate',
  'prevent-inertia',
];

/** What `classifyStep` reads. */
export interface StepSignals {
  /** The constraint of the previous interval (undefined or '' when none). */
  prevConstraint?: string | undefined;
  /** The constraint now (undefined or '' when none). */
  constraint?: string | undefined;
  /** A rope holds the current constraint. */
  ropeActive: boolean;
  /** Capacity is being moved to the constraint this interval. */
  rebalancing: boolean;
  /** The constraint is starving (idle with an empty queue). */
  starving: boolean;
}

/**
 * Classifies the interval. Priority, highest first: no constraint → `identify`; the constraint
 * changed (both named, different) → `prevent-inertia`; rebalancing → `elevate`; starving or no
 * rope → `exploit`; otherwise `subordinate`. The caller keeps `prevConstraint` from one interval
 * to the next.
 */
export function classifyStep(signals: StepSignals): FocusingStep {
  const prev = signals.prevConstraint || undefined;
  const curr = signals.constraint || undefined;
  if (curr === undefined) return 'identify';
  if (prev !== undefined && prev !== curr) return 'prevent-inertia';
  if (signals.rebalancing) return 'elevate';
  if (signals.starving || !signals.ropeActive) return 'exploit';
  return 'subordinate';
}

/**
 * One stage's interval as the analyzer reads it. Work is in milliseconds of worker-slot time.
 * Optional fields are signals a source may not have (a stage from another system may not report
 * idle time); the analyzer skips the tests that need a missing signal.
 */
export interface StageObservation {
  /** The stage's name. */
  stage: string;
  /** Slot time spent inside `fn`. */
  busyWork: number;
  /** Slot time available: average workers × interval. */
  capacityWork: number;
  /** Slot time spent waiting for input. */
  idleWork?: number;
  /** Slot time spent waiting for the consumer to take a result. */
  blockedWork?: number;
  /** Items submitted during the interval. */
  arrivals?: number;
  /** Items completed during the interval (failures included). */
  completions?: number;
  /** Items failed during the interval. */
  failures?: number;
  /** Items queued at the end of the interval. */
  queueDepth?: number;
  /** Workers at the end of the interval. */
  workers?: number;
}

/**
 * Turns two consecutive snapshots of one stage into the analyzer's observation (toc's Adapt).
 * busy = Δservice, idle = Δidle, blocked = ΔoutputBlocked, capacity = average active workers ×
 * elapsedMs, arrivals = Δsubmitted; every signal is present, since a flow stage reports them all.
 */
export function observe(
  name: string,
  prev: Stats,
  curr: Stats,
  elapsedMs: number,
): StageObservation {
  return observeInterval(name, delta(prev, curr, elapsedMs));
}

/** `observe` from an interval already computed (what autoRope and the sampler hold). */
export function observeInterval(name: string, iv: IntervalStats): StageObservation {
  return {
    stage: name,
    busyWork: iv.serviceTimeDeltaMs,
    capacityWork: iv.durationMs > 0 ? iv.avgWorkers * iv.durationMs : 0,
    idleWork: iv.idleTimeDeltaMs,
    blockedWork: iv.outputBlockedDeltaMs,
    arrivals: iv.itemsSubmitted,
    completions: iv.itemsCompleted,
    failures: iv.itemsFailed,
    queueDepth: iv.currBufferedDepth,
    workers: iv.currActiveWorkers,
  };
}
