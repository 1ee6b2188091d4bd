/**
 * Admission control for a stage (the stage's end of the rope). A submit is admitted when
 * admission is not paused, fewer than `maxWIP` permits are held, the summed weight stays within `maxWIPWeight` (when that
 * is on) and the input queue has room. Waiting submits form one FIFO line: nobody jumps the
 * queue, so a heavy item at the head blocks lighter ones behind it (head-of-line blocking, as in
 * toc). A permit is held from admission until the item's result is taken from `out()`.
 * Internal to flow; the stage drives it.
 */
import { Deque } from '../deque.js';
import { WeightExceedsLimitError } from '../errors.js';

/** A submit waiting for a permit. */
export interface Waiter<T> {
  item: T;
  weight: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  since: number;
}

export class Admission<T> {
  maxWIP: number;
  /** What the user asked for (0 = follow the ceiling); the clamp re-applies on setWorkers. */
  requestedMaxWIP: number;
  maxWIPWeight: number;
  admitted = 0;
  admittedWeight = 0;
  paused = false;
  readonly waiters = new Deque<Waiter<T>>();
  maxWaiterCount = 0;
  wipWaitCount = 0;
  wipWaitMs = 0;

  /** `changed` runs when the line changed in a way that may let the head in (a waiter left). */
  constructor(
    maxWIP: number,
    requestedMaxWIP: number,
    maxWIPWeight: number,
    private readonly changed: () => void,
    private readonly now: () => number,
  ) {
    this.maxWIP = maxWIP;
    this.requestedMaxWIP = requestedMaxWIP;
    this.maxWIPWeight = maxWIPWeight;
  }

  /** Whether the rope (count, weight, pause) lets an item of weight `w` in now. */
  permits(w: number): boolean {
    return (
      !this.paused &&
      this.admitted < this.maxWIP &&
      (this.maxWIPWeight === 0 || this.admittedWeight + w <= this.maxWIPWeight)
    );
  }

  take(w: number): void {
    this.admitted++;
    this.admittedWeight += w;
  }

  release(w: number): void {
    this.admitted--;
    this.admittedWeight -= w;
  }

  /** Queues a submit at the back of the line; the promise settles on grant, close or abort. */
  wait(item: T, weight: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<T> = {
        item,
        weight,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        since: this.now(),
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          if (this.waiters.remove(waiter)) {
            this.leave(waiter);
            reject(signal.reason);
            this.changed();
          }
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.wipWaitCount++;
      if (this.waiters.length > this.maxWaiterCount) this.maxWaiterCount = this.waiters.length;
    });
  }

  /** Removes the head (the caller admits it and then resolves it). */
  shiftHead(): Waiter<T> {
    const w = this.waiters.shift() as Waiter<T>;
    this.leave(w);
    return w;
  }

  /** Rejects every waiter, oldest first (close or abort). */
  rejectAll(make: () => unknown): void {
    while (this.waiters.length > 0) {
      const w = this.shiftHead();
      w.reject(make());
    }
  }

  /** Applies a new WIP limit within [1, ceiling]; returns the applied value. */
  setMaxWIP(requested: number, ceiling: number): number {
    this.requestedMaxWIP = Math.max(1, requested);
    this.maxWIP = Math.max(1, Math.min(this.requestedMaxWIP, ceiling));
    return this.maxWIP;
  }

  /** The ceiling moved (setWorkers): re-clamp what was asked for. */
  setCeiling(ceiling: number): void {
    this.maxWIP =
      this.requestedMaxWIP <= 0
        ? Math.max(1, ceiling)
        : Math.max(1, Math.min(this.requestedMaxWIP, ceiling));
  }

  /**
   * Applies a new weight limit (0 = off, negatives clamp to 0) and returns it. Waiters heavier
   * than a positive new limit could never get in: they are rejected with WeightExceedsLimitError.
   */
  setMaxWIPWeight(n: number): number {
    this.maxWIPWeight = n > 0 ? n : 0;
    const limit = this.maxWIPWeight;
    if (limit > 0) {
      for (const w of this.waiters.removeWhere((x) => x.weight > limit)) {
        this.leave(w);
        w.reject(new WeightExceedsLimitError(w.weight, limit));
      }
    }
    return this.maxWIPWeight;
  }

  private leave(w: Waiter<T>): void {
    this.wipWaitMs += this.now() - w.since;
    if (w.signal !== undefined && w.onAbort !== undefined) {
      w.signal.removeEventListener('abort', w.onAbort);
    }
  }
}
