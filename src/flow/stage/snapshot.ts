/**
 * A stage's `Stats`: every counter and gauge read in one synchronous step, so the snapshot is
 * consistent even while the stage runs. Internal to flow.
 */
import type { Stats } from '../stats.js';
import type { Admission } from './admission.js';
import type { ServiceTimeHistogram } from './service-time.js';

/** What a snapshot reads from a stage (its core). */
export interface SnapshotSource {
  readonly submitted: number;
  readonly completed: number;
  readonly failed: number;
  readonly panicked: number;
  readonly canceled: number;
  readonly received: number;
  readonly forwarded: number;
  readonly dropped: number;
  readonly serviceTimeMs: number;
  readonly outputBlockedTimeMs: number;
  readonly bufferedDepth: number;
  readonly inFlightWeight: number;
  readonly capacity: number;
  readonly targetWorkers: number;
  readonly activeWorkers: number;
  readonly admission: Admission<unknown>;
  readonly hist: ServiceTimeHistogram | undefined;
  idleTime(): number;
}

export function snapshot(core: SnapshotSource): Stats {
  const adm = core.admission;
  const s: Stats = {
    submitted: core.submitted,
    completed: core.completed,
    failed: core.failed,
    panicked: core.panicked,
    canceled: core.canceled,
    received: core.received,
    forwarded: core.forwarded,
    dropped: core.dropped,
    serviceTimeMs: core.serviceTimeMs,
    idleTimeMs: core.idleTime(),
    outputBlockedTimeMs: core.outputBlockedTimeMs,
    bufferedDepth: core.bufferedDepth,
    inFlightWeight: core.inFlightWeight,
    queueCapacity: core.capacity,
    paused: adm.paused,
    maxWIP: adm.maxWIP,
    maxWIPWeight: adm.maxWIPWeight,
    admittedWeight: adm.admittedWeight,
    admitted: adm.admitted,
    waiterCount: adm.waiters.length,
    maxWaiterCount: adm.maxWaiterCount,
    targetWorkers: core.targetWorkers,
    activeWorkers: core.activeWorkers,
    wipWaitCount: adm.wipWaitCount,
    wipWaitMs: adm.wipWaitMs,
  };
  if (core.hist !== undefined) s.serviceTimeDist = core.hist.summary();
  return s;
}
