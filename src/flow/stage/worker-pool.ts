/**
 * A stage's worker slots: which workers are live, which are idle, which retire once their
 * result is taken, and how long they have lived (idle time is derived from those lifetimes, see
 * `idleTime`). The stage core moves items; this only keeps the books. Internal to flow.
 */

import { Worker, type WorkerHost } from './workers.js';

export class WorkerPool<T, R> {
  /**
   * Idle workers, taken from the end: the oldest first, so the newest (retired first by
   * `resize`) are the likeliest to be idle. The core reads it on its hot path.
   */
  readonly idle: Worker<T, R>[] = [];
  /** Live workers that are not retiring, oldest first (`resize` retires from the end). */
  private workers: Worker<T, R>[] = [];
  /** Every live worker, retiring ones included. */
  private live: Worker<T, R>[] = [];
  /** Lifetimes of retired workers (ms). */
  private retiredLifeMs = 0;
  /** Live workers, retiring ones included, until the stage finishes. */
  active = 0;

  constructor(
    private readonly host: WorkerHost<T, R>,
    workers: number,
    now: number,
  ) {
    for (let i = 0; i < workers; i++) this.add(now);
    this.idle.reverse();
  }

  private add(now: number): void {
    const w = new Worker<T, R>(this.host, now);
    this.workers.push(w);
    this.live.push(w);
    this.idle.push(w);
    this.active++;
  }

  /** The first live worker (the only one when `active` is 1). */
  sole(): Worker<T, R> | undefined {
    return this.live[0];
  }

  /** Grows or shrinks to `n` workers: an idle one retires at once, a busy one once its result is taken. */
  resize(n: number, now: number): void {
    while (this.workers.length < n) this.add(now);
    while (this.workers.length > n) {
      const w = this.workers.pop() as Worker<T, R>;
      if (w.busy) {
        w.retiring = true;
      } else {
        this.idle.splice(this.idle.indexOf(w), 1);
        this.retire(w, now);
      }
    }
  }

  /** `w` leaves: its lifetime joins the retired total. */
  retire(w: Worker<T, R>, now: number): void {
    this.active--;
    this.live.splice(this.live.indexOf(w), 1);
    this.retiredLifeMs += now - w.bornAt;
  }

  /**
   * Idle time, derived rather than clocked at every idle/busy switch (which would cost two clock
   * reads per item): a worker's life is idle, in fn, or holding a result, so idle = the workers'
   * summed lifetimes - service time - output-blocked time - what busy workers are in the middle
   * of. Exact whenever those are; never negative.
   */
  idleTime(now: number, serviceTimeMs: number, outputBlockedTimeMs: number): number {
    let life = this.retiredLifeMs;
    let busy = 0;
    for (const w of this.live) {
      life += now - w.bornAt;
      if (w.busy) busy += w.busyFor(now);
    }
    return Math.max(0, life - serviceTimeMs - outputBlockedTimeMs - busy);
  }

  /**
   * The summed weight of the items in `fn` now, counted rather than kept in a running sum (two
   * updates per item saved on the hot path; a snapshot walks the workers once anyway).
   */
  inFlightWeight(): number {
    let sum = 0;
    for (const w of this.live) if (w.inFn) sum += w.weight;
    return sum;
  }

  /** The stage finished: every worker retires at `now`. */
  close(now: number): void {
    for (const w of this.live) this.retiredLifeMs += now - w.bornAt;
    this.live = [];
    this.idle.length = 0;
    this.workers = [];
    this.active = 0;
  }
}
