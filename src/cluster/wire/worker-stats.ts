/**
 * Per-worker stats: what each `StageServer` publishes on the stage's stats subject (core NATS,
 * at most once, every `statsIntervalMs` and once more when it stops), and how a coordinator keeps
 * the latest report of each.
 */
import type { ServiceTimeSummary } from '../../flow/index.js';
import { ServiceHistogram } from './histogram.js';

/** One worker's report (a `StageServer`, which runs up to `slots` items at once). */
export interface WorkerStats {
  /** `host:pid:n`: unique per StageServer. */
  id: string;
  /** The machine's host name. */
  host: string;
  /** The worker's process id on that host. */
  pid: number;
  /** How many items it may run at once (its `workers` option). */
  slots: number;
  /** Items it took from the stream (deliveries, re-deliveries included). */
  received: number;
  /** Items whose `fn` returned or threw and whose result was published. */
  done: number;
  /** Subset of `done` whose result is an error. */
  failed: number;
  /** Items it dead-lettered instead of running. */
  deadLettered: number;
  /** Items it handed back (nak) on a graceful stop. */
  handedBack: number;
  /** Items in `fn` right now. */
  inFlight: number;
  /** The most items it ever had in `fn` at once. */
  maxInFlight: number;
  /** Cumulative time in `fn`, ms. */
  serviceTimeMs: number;
  /** Cumulative slot time spent waiting for an item, ms. */
  idleTimeMs: number;
  /** Its service-time distribution (every run, re-runs of one item included). */
  serviceTimeDist: ServiceTimeSummary;
  /** When the report was made (ms since the epoch, the worker's clock). */
  at: number;
  /** The worker has stopped; this is its last report. */
  stopped: boolean;
}

/** The wire form: WorkerStats with the histogram encoded instead of summarised. */
export interface WorkerReport extends Omit<WorkerStats, 'serviceTimeDist'> {
  hist: string;
  underflow: number;
  overflow: number;
}

/** Checks a decoded report's shape. */
export function asReport(value: unknown): WorkerReport | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const r = value as Partial<WorkerReport>;
  const nums = [
    'pid',
    'slots',
    'received',
    'done',
    'failed',
    'inFlight',
    'serviceTimeMs',
    'idleTimeMs',
    'at',
  ] as const;
  if (typeof r.id !== 'string' || typeof r.hist !== 'string') return undefined;
  for (const k of nums) if (typeof r[k] !== 'number') return undefined;
  return r as WorkerReport;
}

interface Entry {
  report: WorkerReport;
  summary: ServiceTimeSummary | undefined;
  /** Local receive time (performance.now), for liveness. */
  seenAt: number;
}

/** The latest report of every worker a coordinator heard from. */
export class WorkerBoard {
  readonly #entries = new Map<string, Entry>();
  readonly #staleMs: number;

  /** Workers silent for `staleMs` are left out of live sums. */
  constructor(staleMs: number) {
    this.#staleMs = staleMs;
  }

  /** Workers ever heard from. */
  get size(): number {
    return this.#entries.size;
  }

  update(report: WorkerReport): void {
    this.#entries.set(report.id, { report, summary: undefined, seenAt: performance.now() });
  }

  #live(e: Entry, now: number): boolean {
    return !e.report.stopped && now - e.seenAt <= this.#staleMs;
  }

  /** Sums over the live workers: slots, in flight, idle time (idle of every worker ever seen). */
  totals(): { slots: number; inFlight: number; idleTimeMs: number } {
    const now = performance.now();
    let slots = 0;
    let inFlight = 0;
    let idleTimeMs = 0;
    for (const e of this.#entries.values()) {
      idleTimeMs += e.report.idleTimeMs;
      if (!this.#live(e, now)) continue;
      slots += e.report.slots;
      inFlight += e.report.inFlight;
    }
    return { slots, inFlight, idleTimeMs };
  }

  /** Every worker's latest stats, ordered by id. */
  list(): WorkerStats[] {
    const out: WorkerStats[] = [];
    for (const e of this.#entries.values()) {
      if (e.summary === undefined) {
        const h = new ServiceHistogram();
        h.addEncoded(e.report.hist, e.report.underflow, e.report.overflow);
        e.summary = h.summary();
      }
      const { hist: _h, underflow: _u, overflow: _o, ...rest } = e.report;
      out.push({ ...rest, serviceTimeDist: e.summary });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every worker's histogram merged into one summary (every run of every item). */
  merged(): ServiceTimeSummary {
    const h = new ServiceHistogram();
    for (const e of this.#entries.values()) {
      h.addEncoded(e.report.hist, e.report.underflow, e.report.overflow);
    }
    return h.summary();
  }
}
