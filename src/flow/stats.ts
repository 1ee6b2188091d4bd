/**
 * The stats shapes shared by flow's stages (part 1) and its control loop (part 2). Durations are
 * milliseconds as floating-point numbers (from `performance.now()`), cumulative across workers.
 *
 * A `Stats` value is a consistent snapshot, also mid-flight: a stage runs on one thread and
 * `stats()` reads every field in one synchronous step, so no item is half-counted (unlike toc,
 * whose counters are read one atomic at a time while workers run). What holds only at the end
 * are the conservation invariants (`submitted = completed + canceled`, zero gauges): mid-flight
 * some items are still queued or in `fn`. They are guaranteed once every `submit` has settled and
 * `wait()` has resolved (see docs/flow.md).
 */

/** The distribution of per-item service times (hdr-histogram, ~1% precision). */
export interface ServiceTimeSummary {
  /** Items recorded. */
  count: number;
  /** The shortest. */
  minMs: number;
  /** The longest. */
  maxMs: number;
  /** The mean. */
  meanMs: number;
  /** The standard deviation. */
  stdDevMs: number;
  /** The median. */
  p50Ms: number;
  /** The 95th percentile. */
  p95Ms: number;
  /** The 99th percentile. */
  p99Ms: number;
  /** Items below the recordable minimum. */
  underflow: number;
  /** Items above the recordable maximum. */
  overflow: number;
}

/** A stage's counters and gauges (toc's Stats, less Go's allocation tracking). */
export interface Stats {
  /** Items accepted by `submit` (it resolved). */
  submitted: number;
  /** Items whose `fn` returned or threw (includes failed and panicked). */
  completed: number;
  /** Subset of completed whose result is an error (includes panicked). */
  failed: number;
  /** Subset of failed where `fn` threw something that is not an Error (see docs/flow.md). */
  panicked: number;
  /** Items taken from the queue but never passed to `fn` because cancellation came first. */
  canceled: number;
  /** `pipe` stages: items read from the source (any Result). 0 for `start` stages. */
  received: number;
  /** `pipe` stages: upstream error results sent straight to the output. */
  forwarded: number;
  /** `pipe` stages: items seen but neither submitted nor forwarded (shutdown or cancel). */
  dropped: number;
  /** Cumulative time `fn` was running. */
  serviceTimeMs: number;
  /** Cumulative worker time waiting for input. */
  idleTimeMs: number;
  /** Cumulative worker time waiting for the consumer to take a result. */
  outputBlockedTimeMs: number;
  /** Items waiting in the input queue (exact; always 0 when `capacity` is 0). */
  bufferedDepth: number;
  /** Summed weight of items now inside `fn`. */
  inFlightWeight: number;
  /** Configured input capacity. */
  queueCapacity: number;
  /** Whether admission is paused. */
  paused: boolean;
  /** Current WIP limit (>= 1). */
  maxWIP: number;
  /** Current weight limit (0 = off). */
  maxWIPWeight: number;
  /** Weight of items now admitted. */
  admittedWeight: number;
  /** Permits now held: queued, in flight, or results not yet taken. */
  admitted: number;
  /** Submits now waiting for a permit. */
  waiterCount: number;
  /** High-water mark of waiterCount. */
  maxWaiterCount: number;
  /** Worker count asked for by `setWorkers` (or the option). */
  targetWorkers: number;
  /** Workers now running (may lag the target while draining). */
  activeWorkers: number;
  /** Submits that had to wait for a permit, cumulative. */
  wipWaitCount: number;
  /** Time submits spent waiting for a permit, cumulative. */
  wipWaitMs: number;
  /** Present only when `trackServiceTime` is on. */
  serviceTimeDist?: ServiceTimeSummary;
}

/** The all-zero Stats value: a stage that has done nothing. */
export function zeroStats(): Stats {
  return {
    submitted: 0,
    completed: 0,
    failed: 0,
    panicked: 0,
    canceled: 0,
    received: 0,
    forwarded: 0,
    dropped: 0,
    serviceTimeMs: 0,
    idleTimeMs: 0,
    outputBlockedTimeMs: 0,
    bufferedDepth: 0,
    inFlightWeight: 0,
    queueCapacity: 0,
    paused: false,
    maxWIP: 1,
    maxWIPWeight: 0,
    admittedWeight: 0,
    admitted: 0,
    waiterCount: 0,
    maxWaiterCount: 0,
    targetWorkers: 0,
    activeWorkers: 0,
    wipWaitCount: 0,
    wipWaitMs: 0,
  };
}
