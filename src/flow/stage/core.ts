/**
 * The engine behind `Stage`: the input queue, the workers, the rope and the output, and the one
 * loop (`drive`) that moves items between them. Everything runs on the event loop without locks:
 * a section with no `await` is atomic, so every state change below is one step and `stats()` is
 * a consistent snapshot. `drive` is not re-entrant — a call made while it runs (from inside `fn`,
 * a listener, or a nested hand-off) only flags another pass — so user code called from here can
 * never see half-done bookkeeping. Internal to flow; `stage.ts` is the face.
 */

import { toError } from '../../proc/index.js';
import { Deque } from '../deque.js';
import { ClosedError, StoppingError, WeightExceedsLimitError } from '../errors.js';
import type { Result } from '../result.js';
import type { Stats } from '../stats.js';
import { checkInt, invalid } from '../validate.js';
import { Admission } from './admission.js';
import { Forward } from './forward.js';
import type { ResolvedOptions, StageFn } from './options.js';
import { Output } from './output.js';
import { ServiceTimeHistogram } from './service-time.js';
import { snapshot } from './snapshot.js';
import { Timing } from './timing.js';
import { WorkerPool } from './worker-pool.js';
import type { Worker, WorkerHost } from './workers.js';

/** The one resolved promise every fast-path submit returns (no allocation per item). */
const RESOLVED: Promise<void> = Promise.resolve();

export class StageCore<T, R> implements WorkerHost<T, R> {
  readonly fn: StageFn<T, R>;
  readonly capacity: number;
  readonly continueOnError: boolean;
  readonly weightFn: ((item: T) => number) | undefined;
  readonly hist: ServiceTimeHistogram | undefined;
  readonly timing: Timing;
  /** The stage's clock (`options.clock`, else `performance.now()`). */
  readonly now: () => number;
  private readonly ctl = new AbortController();
  readonly signal: AbortSignal = this.ctl.signal;
  private readonly parent: AbortSignal | undefined;
  private readonly onParentAbort: (() => void) | undefined;
  readonly admission: Admission<T>;
  readonly output = new Output<R>();
  private readonly queue = new Deque<T>();
  private readonly queueWeights: Deque<number> | undefined;
  private readonly pool: WorkerPool<T, R>;
  /** The pool's idle workers (the same array, read on every item). */
  private readonly idle: Worker<T, R>[];
  targetWorkers: number;

  // Lifecycle.
  inputClosed = false;
  finished = false;
  private hasFailure = false;
  private failure: unknown = undefined;
  /** The latched terminal cause (set when the stage finishes). */
  causeValue: unknown = undefined;
  /** Pipe feeders still reading their source. */
  feeders = 0;
  /** A feeder was attached (a `startFrom` stage): its forwarded errors may come at any time. */
  private fed = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private driving = false;
  private again = false;
  /**
   * A summary for the per-item submit: when true, the stage has no weight function, input is
   * open, no submit waits, admission is not paused, no weight limit is set and `drive` is not
   * running — so a submit without a signal needs only the WIP count and room checked. Every
   * change that breaks one of these sets it false on the spot; it is recomputed from the fields
   * (`reopen`) at the end of `drive`, which every change that may restore them goes through. It
   * may be false while they all hold (submits then take the checked path), never true while one
   * fails.
   */
  private open = false;
  /** A feeder waiting for the queue to drain to half (see `lowWater`), and what it awaits. */
  private lowWaterResolve: (() => void) | undefined;
  private lowWaterWait: Promise<void> | undefined;

  // Counters.
  submitted = 0;
  completed = 0;
  failed = 0;
  panicked = 0;
  canceled = 0;
  received = 0;
  forwarded = 0;
  dropped = 0;
  /** Service time of the timed calls; `serviceTimeMs` adds the untimed ones' estimate. */
  timedServiceMs = 0;
  private finishedAt = 0;
  outputBlockedTimeMs = 0;

  constructor(fn: StageFn<T, R>, o: ResolvedOptions<T>) {
    this.fn = fn;
    this.capacity = o.capacity;
    this.continueOnError = o.continueOnError;
    this.weightFn = o.weight;
    this.queueWeights = o.weight ? new Deque<number>() : undefined;
    this.hist = o.trackServiceTime ? new ServiceTimeHistogram() : undefined;
    this.timing = new Timing(o.trackServiceTime);
    this.targetWorkers = o.workers;
    this.now = o.now;
    this.admission = new Admission<T>(
      o.maxWIP,
      o.requestedMaxWIP,
      o.maxWIPWeight,
      () => this.drive(),
      o.now,
    );
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    this.pool = new WorkerPool<T, R>(this, o.workers, this.now());
    this.idle = this.pool.idle;
    this.poolChanged();
    this.reopen();
    this.parent = o.signal;
    if (o.signal !== undefined) {
      const parent = o.signal;
      if (parent.aborted) {
        this.onParentAbort = undefined;
        this.abort(parent.reason);
      } else {
        this.onParentAbort = () => this.abort(parent.reason);
        parent.addEventListener('abort', this.onParentAbort, { once: true });
      }
    }
  }

  /** Fail-fast latched or the signal aborted (a plain field: AbortSignal.aborted is a native getter). */
  stopped = false;

  get stopReason(): unknown {
    return this.hasFailure ? this.failure : this.signal.reason;
  }

  /** The first failure while running (fail-fast mode) becomes the stage's error. */
  latchFailure(error: unknown): boolean {
    if (this.continueOnError || this.stopped) return false;
    this.hasFailure = true;
    this.failure = error;
    this.stopped = true;
    return true;
  }

  /** Cancels the stage: closes input, drops forwards not yet taken, cancels what is queued. */
  abort(reason: unknown): void {
    this.stopped = true;
    if (!this.signal.aborted) this.ctl.abort(reason);
    this.closeInput();
    for (const h of this.output.takeForwards()) (h as Forward<R>).drop();
    this.drive();
  }

  /** The fail-fast error, when there was one (what `wait()` rejects with). */
  get failFastError(): { error: unknown } | undefined {
    return this.hasFailure ? { error: this.failure } : undefined;
  }

  // ---- admission -------------------------------------------------------------------------

  /** The item's weight, validated; a number, or an Error to reject the submit with. */
  private weigh(item: T): number | Error {
    const fn = this.weightFn;
    if (fn === undefined) return 1;
    let w: number;
    try {
      w = fn(item);
    } catch (error) {
      return toError(error, 'weight(item)').error;
    }
    if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) {
      return invalid('weight(item)', 'must return a finite number >= 0', w);
    }
    const limit = this.admission.maxWIPWeight;
    if (limit > 0 && w > limit) return new WeightExceedsLimitError(w, limit);
    return w;
  }

  submit(item: T, signal: AbortSignal | undefined): Promise<void> {
    // The fast path (no signal, `open`, a permit and room now) can fail none of the checks in
    // submitChecked; an idle worker with nothing queued takes the item at once (admit's first case).
    if (signal === undefined && this.open) {
      const adm = this.admission;
      if (adm.admitted < adm.maxWIP) {
        if (this.idle.length > 0 && this.queue.length === 0) {
          adm.take(1);
          this.submitted++;
          (this.idle.pop() as Worker<T, R>).start(item, 1, Number.NaN);
          return RESOLVED;
        }
        if (this.queue.length < this.capacity + this.idle.length) {
          this.admit(item, 1);
          return RESOLVED;
        }
      }
    }
    return this.submitChecked(item, signal);
  }

  /** Recomputes `open` from the fields it summarizes. */
  private reopen(): void {
    const adm = this.admission;
    this.open =
      this.weightFn === undefined &&
      !this.inputClosed &&
      !this.driving &&
      adm.waiters.length === 0 &&
      !adm.paused &&
      adm.maxWIPWeight === 0;
  }

  private submitChecked(item: T, signal: AbortSignal | undefined): Promise<void> {
    if (this.inputClosed) return Promise.reject(new ClosedError());
    if (signal !== undefined) {
      if (!(signal instanceof AbortSignal)) {
        return Promise.reject(invalid('signal', 'must be an AbortSignal', signal));
      }
      if (signal.aborted) return Promise.reject(signal.reason);
    }
    const w = this.weightFn === undefined ? 1 : this.weigh(item);
    if (typeof w !== 'number') return Promise.reject(w);
    if (
      this.admission.waiters.length === 0 &&
      this.admission.permits(w) &&
      this.queue.length < this.capacity + this.idle.length
    ) {
      this.admit(item, w);
      return RESOLVED;
    }
    this.open = false;
    return this.admission.wait(item, w, signal);
  }

  /**
   * The feeder's fast path: admits `item` at once when nothing waits and there is room, and
   * returns true; false means the caller must go through `submit`.
   */
  tryAdmit(item: T): boolean {
    if (this.inputClosed || this.admission.waiters.length !== 0) return false;
    const w = this.weightFn === undefined ? 1 : this.weigh(item);
    if (typeof w !== 'number') return false;
    if (this.admission.permits(w) && this.queue.length < this.capacity + this.idle.length) {
      this.admit(item, w);
      return true;
    }
    return false;
  }

  private admit(item: T, w: number): void {
    this.admission.take(w);
    this.submitted++;
    if (!this.driving && this.queue.length === 0 && this.idle.length > 0) {
      const worker = this.idle.pop() as Worker<T, R>;
      worker.start(item, w, Number.NaN);
      return;
    }
    this.enqueue(item, w);
  }

  private enqueue(item: T, w: number): void {
    this.queue.push(item);
    if (this.queueWeights !== undefined) this.queueWeights.push(w);
    if (this.driving) this.again = true;
    else if (this.idle.length > 0) this.drive();
  }

  closeInput(): void {
    if (this.inputClosed) return;
    this.inputClosed = true;
    this.open = false;
    this.wakeLowWater();
    this.admission.rejectAll(() => new ClosedError());
    this.drive();
  }

  // ---- the loop ----------------------------------------------------------------------------

  /** Starts queued items on idle workers and admits waiters, until neither can move. */
  drive(): void {
    if (this.driving) {
      this.again = true;
      return;
    }
    this.driving = true;
    this.open = false;
    try {
      do {
        this.again = false;
        while (this.queue.length > 0 && this.idle.length > 0) {
          const worker = this.idle.pop() as Worker<T, R>;
          const item = this.queue.shift() as T;
          const w = this.queueWeights === undefined ? 1 : (this.queueWeights.shift() as number);
          worker.start(item, w, Number.NaN);
        }
        const adm = this.admission;
        while (adm.waiters.length > 0 && !this.inputClosed) {
          const head = adm.waiters.peek()!;
          if (!adm.permits(head.weight)) break;
          if (this.queue.length >= this.capacity + this.idle.length) break;
          adm.shiftHead();
          this.admit(head.item, head.weight);
          head.resolve();
          this.again = true;
        }
      } while (this.again);
    } finally {
      this.driving = false;
      this.reopen();
    }
    if (this.lowWaterResolve !== undefined && this.queue.length <= this.capacity >> 1) {
      this.wakeLowWater();
    }
    if (this.inputClosed && !this.finished) this.maybeFinish();
  }

  /** A worker's result was taken: free its permit, then give it the next item or let it rest. */
  releaseWorker(worker: Worker<T, R>, now: number): void {
    worker.busy = false;
    this.admission.release(worker.weight);
    if (worker.retiring) {
      this.retire(worker);
    } else if (!this.driving && this.queue.length > 0) {
      // The hot path: chain straight into the next item, reusing the hand-off timestamp.
      const item = this.queue.shift() as T;
      const w = this.queueWeights === undefined ? 1 : (this.queueWeights.shift() as number);
      worker.start(item, w, now);
    } else {
      this.idle.push(worker);
    }
    if (
      this.lowWaterResolve !== undefined ||
      this.admission.waiters.length > 0 ||
      this.inputClosed ||
      (this.queue.length > 0 && this.idle.length > 0)
    ) {
      this.afterRelease();
    }
  }

  /** Out of line (keeps releaseWorker small enough to inline): wake a feeder, admit, drive. */
  private afterRelease(): void {
    if (this.lowWaterResolve !== undefined && this.queue.length <= this.capacity >> 1) {
      this.wakeLowWater();
    }
    if (
      this.admission.waiters.length > 0 ||
      (this.queue.length > 0 && this.idle.length > 0) ||
      this.inputClosed
    ) {
      this.drive();
    }
  }

  private retire(worker: Worker<T, R>): void {
    this.pool.retire(worker, this.now());
    this.poolChanged();
  }

  /**
   * For a pipe's feeder that just had to wait: resolves once the queue has drained to half its
   * capacity (or the input closed), so the feeder refills it in one synchronous burst instead of
   * queueing one waiting submit per item as single slots free up. Admission rules are unchanged:
   * the feeder still submits each item.
   */
  lowWater(): Promise<void> {
    if (this.inputClosed || this.queue.length <= this.capacity >> 1) return Promise.resolve();
    // A second call while one waits shares its promise (a second resolver would orphan the first).
    this.lowWaterWait ??= new Promise<void>((resolve) => {
      this.lowWaterResolve = resolve;
    });
    return this.lowWaterWait;
  }

  private wakeLowWater(): void {
    const r = this.lowWaterResolve;
    this.lowWaterResolve = undefined;
    this.lowWaterWait = undefined;
    r?.();
  }

  // ---- workers -------------------------------------------------------------------------------

  /**
   * The worker a waiting reader may await directly (Output.sole): the stage's single live
   * worker. None when there are more (a reader bound to one could wait on it while another's
   * result is ready), nor in a `startFrom` stage, whose forwarded errors must reach a waiting
   * reader at once rather than after the call in flight. Called whenever the pool changes.
   */
  private poolChanged(): void {
    this.output.sole = this.pool.active === 1 && !this.fed ? this.pool.sole() : undefined;
  }

  /** A `startFrom` feeder starts reading into this stage (it calls `feederDone` at its end). */
  attachFeeder(): void {
    this.feeders++;
    this.fed = true;
    this.poolChanged();
  }

  setWorkers(n: number): number {
    checkInt('workers', n, 1);
    if (this.stopped || this.finished) throw new StoppingError();
    this.targetWorkers = n;
    this.pool.resize(n, this.now());
    this.poolChanged();
    this.admission.setCeiling(this.capacity + n);
    this.drive();
    return n;
  }

  /** Live workers, retiring ones included (0 once finished). */
  get activeWorkers(): number {
    return this.pool.active;
  }

  /** The workers' idle time so far (derived from their lifetimes, see WorkerPool.idleTime). */
  idleTime(): number {
    const now = this.finished ? this.finishedAt : this.now();
    return this.pool.idleTime(now, this.serviceTimeMs, this.outputBlockedTimeMs);
  }

  /** Cumulative time in `fn`: the timed calls, plus the running mean for each untimed one. */
  get serviceTimeMs(): number {
    return this.timedServiceMs + this.timing.estimatedServiceMs(this.completed);
  }

  setMaxWIP(n: number): number {
    if (typeof n !== 'number' || Number.isNaN(n)) throw invalid('maxWIP', 'must be a number', n);
    const applied = this.admission.setMaxWIP(Math.floor(n), this.capacity + this.targetWorkers);
    this.drive();
    return applied;
  }

  setMaxWIPWeight(n: number): number {
    if (typeof n !== 'number' || Number.isNaN(n)) {
      throw invalid('maxWIPWeight', 'must be a number', n);
    }
    this.open = false;
    const applied = this.admission.setMaxWIPWeight(n);
    this.drive();
    return applied;
  }

  pauseAdmission(): void {
    this.admission.paused = true;
    this.open = false;
  }

  resumeAdmission(): void {
    if (!this.admission.paused) return;
    this.admission.paused = false;
    this.drive();
  }

  // ---- pipe's forwarding -------------------------------------------------------------------

  /** Hands an upstream error to the reader; resolves true when taken, false when dropped. */
  forward(result: Result<R>): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) =>
      this.output.offer(new Forward<R>(result, resolve), true),
    );
  }

  feederDone(): void {
    this.feeders--;
    this.closeInput();
    this.maybeFinish();
  }

  // ---- the end -----------------------------------------------------------------------------

  private maybeFinish(): void {
    if (
      this.finished ||
      !this.inputClosed ||
      this.feeders > 0 ||
      this.queue.length > 0 ||
      this.output.waiting > 0 ||
      this.pool.active !== this.idle.length
    ) {
      return;
    }
    this.finished = true;
    const t = this.now();
    this.pool.close(t);
    this.poolChanged();
    this.finishedAt = t;
    if (this.parent !== undefined && this.onParentAbort !== undefined) {
      this.parent.removeEventListener('abort', this.onParentAbort);
    }
    this.causeValue = this.hasFailure
      ? this.failure
      : this.parent?.aborted
        ? this.parent.reason
        : undefined;
    this.hist?.close();
    this.output.close();
    this.resolveDone();
  }

  /** A consistent snapshot of the counters and gauges (see snapshot.ts). */
  stats(): Stats {
    return snapshot(this);
  }

  /** The summed weight of the items in `fn` now (see WorkerPool.inFlightWeight). */
  get inFlightWeight(): number {
    return this.pool.inFlightWeight();
  }

  /** Items waiting in the input queue. */
  get bufferedDepth(): number {
    return this.queue.length;
  }
}
