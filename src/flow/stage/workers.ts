/**
 * A stage's workers. A worker is not a loop of its own but a slot: the stage hands it an item,
 * it calls `fn`, and it holds the result (and the item's permit) until a reader takes it — the
 * unbuffered output of toc, where a worker blocks on send. A synchronous `fn` therefore costs no
 * promise at all; an async one costs the `then` on its promise, with handlers made once per
 * worker. Internal to flow.
 */

import { toError } from '../../proc/index.js';
import { ok, type Result } from '../result.js';
import type { Bindable, Output } from './output.js';
import type { ServiceTimeHistogram } from './service-time.js';
import type { Timing } from './timing.js';

/** What a worker needs from its stage (the stage core implements it). */
export interface WorkerHost<T, R> {
  readonly fn: (item: T, signal: AbortSignal) => Promise<R> | R;
  readonly signal: AbortSignal;
  readonly output: Output<R>;
  readonly hist: ServiceTimeHistogram | undefined;
  readonly timing: Timing;
  /** The stage's clock in milliseconds. */
  readonly now: () => number;
  completed: number;
  failed: number;
  panicked: number;
  canceled: number;
  timedServiceMs: number;
  outputBlockedTimeMs: number;
  /** True once fail-fast latched or the stage signal aborted: dequeued items are canceled. */
  readonly stopped: boolean;
  /** The reason canceled items carry: the fail-fast error or the signal's reason. */
  readonly stopReason: unknown;
  /** A failed item; returns whether it triggered fail-fast (then the host aborts after offer). */
  latchFailure(error: unknown): boolean;
  abort(reason: unknown): void;
  /** `now` is NaN when the hand-off was not timed (the host reads the clock if it needs one). */
  releaseWorker(w: Worker<T, R>, now: number): void;
}

export class Worker<T, R> implements Bindable<R> {
  /** The result waiting for a reader. */
  result: Result<R> | undefined = undefined;
  /**
   * While an async call is in flight and calls are fast (Timing.fast): the promise its settle
   * handlers return, which a reader may await instead of a promise of its own (see Output);
   * undefined otherwise.
   */
  settled: Promise<IteratorResult<Result<R>> | undefined> | undefined = undefined;
  busy = false;
  /** Asked to retire while busy: it leaves once its result is taken. */
  retiring = false;
  weight = 1;
  readonly bornAt: number;
  private t0 = 0;
  /** When the result was ready; meaningful only when `timed`. */
  private readyAt = 0;
  /** Whether the current call is timed (see timing.ts). */
  private timed = false;
  /** Whether an untimed result's wait is counted at the running mean (not for canceled items). */
  private estimate = false;
  /** The stage's timing and output, held here too: one load fewer each on the per-item path. */
  private readonly timing: Timing;
  private readonly output: Output<R>;
  private readonly onFulfilled: (value: R) => IteratorResult<Result<R>> | undefined;
  private readonly onRejected: (error: unknown) => IteratorResult<Result<R>> | undefined;

  constructor(
    private readonly host: WorkerHost<T, R>,
    now: number,
  ) {
    this.bornAt = now;
    this.timing = host.timing;
    this.output = host.output;
    this.onFulfilled = (value) => {
      this.settled = undefined;
      return this.succeed(value);
    };
    this.onRejected = (error) => {
      this.settled = undefined;
      return this.fail(error);
    };
  }

  /**
   * Takes `item` (at time `t0`, or NaN when the caller did not read the clock): calls fn, or,
   * once the stage stopped, emits a canceled result.
   */
  start(item: T, weight: number, t0: number): void {
    const host = this.host;
    this.busy = true;
    this.weight = weight;
    if (host.stopped) {
      this.cancel(t0);
      return;
    }
    this.estimate = true;
    this.timed = this.timing.timeNext();
    if (this.timed) this.t0 = Number.isNaN(t0) ? host.now() : t0;
    let r: Promise<R> | R;
    try {
      r = host.fn(item, host.signal);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (r instanceof Promise) {
      const settled = r.then(this.onFulfilled, this.onRejected);
      if (this.timing.fast) this.settled = settled;
    } else {
      this.settleOther(r);
    }
  }

  /** The stage stopped before this item reached fn: its result is a canceled one. */
  private cancel(t0: number): void {
    const host = this.host;
    host.canceled++;
    this.result = { ok: false, error: host.stopReason };
    this.readyAt = t0;
    this.timed = !Number.isNaN(t0);
    this.estimate = false;
    this.output.offer(this);
  }

  /** fn returned something other than a native promise: a thenable, or a plain value. */
  private settleOther(r: R | PromiseLike<R>): void {
    if (isThenable(r)) {
      const settled = Promise.resolve(r).then(this.onFulfilled, this.onRejected);
      if (this.timing.fast) this.settled = settled;
      return;
    }
    this.succeed(r as R);
  }

  private finishTiming(): void {
    const host = this.host;
    host.completed++;
    // An untimed call needs nothing more: Timing derives their count from `completed`.
    if (this.timed) this.finishTimed();
  }

  private finishTimed(): void {
    const host = this.host;
    const t1 = host.now();
    const d = t1 - this.t0;
    host.timedServiceMs += d;
    this.readyAt = t1;
    const hist = host.hist;
    if (hist !== undefined) {
      hist.record(d);
      this.timing.trackedSample(d);
    } else {
      this.timing.service(d, host.completed);
    }
  }

  /** Returns what a reader bound to this worker gets (see Output.offer). */
  private succeed(value: R): IteratorResult<Result<R>> | undefined {
    this.finishTiming();
    return this.output.offerResult(this, ok(value));
  }

  private fail(thrown: unknown): IteratorResult<Result<R>> | undefined {
    const host = this.host;
    this.finishTiming();
    const { error, panicked } = toError(thrown, 'fn');
    host.failed++;
    if (panicked) host.panicked++;
    this.result = { ok: false, error };
    // Latch first so that anything dequeued while this result is handed over is canceled, offer
    // next so the failing result comes before those canceled ones, then abort (listeners run).
    const failFast = host.latchFailure(error);
    const bound = this.output.offer(this);
    if (failFast) host.abort(error);
    return bound;
  }

  /** Whether the worker's item is in `fn` (busy, no result yet): its weight is in flight. */
  get inFn(): boolean {
    return this.busy && this.result === undefined;
  }

  /** How long the current item has kept this worker busy so far (0 when untimed). */
  busyFor(now: number): number {
    if (this.result !== undefined) return this.timed ? now - this.readyAt : 0;
    return this.timed ? now - this.t0 : 0;
  }

  /** The reader took the result; `direct` when it was waiting already (no time blocked). */
  taken(direct: boolean): void {
    if (direct) this.host.releaseWorker(this, this.timed ? this.readyAt : Number.NaN);
    else this.takenLate();
  }

  /** The result waited for its reader: count (or estimate) how long. */
  private takenLate(): void {
    const host = this.host;
    let t = Number.NaN;
    if (this.timed && this.timing.timeBlocked()) {
      t = host.now();
      const d = t - this.readyAt;
      host.outputBlockedTimeMs += d;
      if (this.estimate) this.timing.blocked(d);
    } else if (this.estimate) {
      host.outputBlockedTimeMs += this.timing.blockedEstimate;
    }
    host.releaseWorker(this, t);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}
