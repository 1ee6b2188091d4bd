/**
 * `ClusterStage`: the coordinator's side of a stage whose `fn` runs in workers elsewhere. It has
 * flow's Stage surface (`StageLike`), so it sits in a `Topology` beside local stages.
 *
 * An item holds one of `capacity` permits from `submit` until its result is taken from `out()`;
 * items go to the work stream, results come back as core NATS messages (the coordinator
 * acknowledges an item once it holds its result) and are matched to the pending items by id: the first result for an id is delivered, any later one (a re-run after a
 * redelivery) is dropped, so every accepted submit yields exactly one result.
 */
import type { Msg, Subscription } from '@nats-io/nats-core';
import {
  ClosedError,
  type Result,
  type ServiceTimeSummary,
  type StageLike,
} from '../../flow/index.js';
import { InvalidOptionError } from '../../proc/index.js';
import { ClusterClosedError, PayloadTooLargeError } from '../errors.js';
import type { Codec } from '../wire/codec.js';
import { decodeResult, HEADER_ROOM, messageHeaders } from '../wire/envelope.js';
import { checkName, type StageNames, stageNames } from '../wire/names.js';
import { ensureStage, removeStage } from '../wire/setup.js';
import { WorkerBoard, type WorkerStats } from '../wire/worker-stats.js';
import { publishItem, storeLost, subscribeWorkerStats, watchConnection } from './coordinator-io.js';
import { Gate } from './gate.js';
import { Ledger } from './ledger.js';
import { ResultListener } from './result-listener.js';
import { ResultQueue } from './result-queue.js';
import {
  type ClusterStageOptions,
  type ResolvedStageOptions,
  resolveStageOptions,
  type StageContext,
  type StageStorage,
} from './stage-options.js';
import type { ClusterStats } from './stats.js';

export type { ClusterStageOptions };

/**
 * A stage whose items are served by `cluster.serve` workers in any process on any machine.
 * Made by `cluster.stage()`. Guarantees (flow's): every `submit` that resolves yields exactly one
 * result on `out()`, one that rejects yields none; with one worker and `maxWIP` 1 results keep
 * submit order; `out()` must be drained; `wait()` settles after every result was taken.
 * Differences from a local stage: errors never fail the stage (every item's result is reported,
 * as with `continueOnError`); `setMaxWIP` caps items in flight at the workers, not submits
 * (`capacity` bounds those). Dispose it (or `await using`) to stop reading results.
 */
export class ClusterStage<T, R> implements StageLike<T, R>, AsyncDisposable {
  /** The stage's name. */
  readonly name: string;
  /** Its JetStream objects. */
  readonly names: StageNames;
  readonly #ctx: StageContext;
  readonly #codec: Codec;
  readonly #capacity: number;
  readonly #unavailableMs: number;
  readonly #storage: StageStorage;
  /** The highest sequence the work stream stored an item of this stage at (0: none yet). */
  #lastStoredSeq = 0;
  readonly #gate: Gate;
  readonly #queue: ResultQueue<R>;
  readonly #ledger: Ledger<R>;
  readonly #board: WorkerBoard;
  #maxWIP: number;
  #wipUpdate: Promise<void> = Promise.resolve();
  #wipError: unknown;
  #inputClosed = false;
  #finished = false;
  #terminal: unknown;
  #cancelReason: unknown;
  #resolveDone!: () => void;
  readonly #done = new Promise<void>((r) => {
    this.#resolveDone = r;
  });
  #statsSub: Subscription | undefined;
  #results: ResultListener | undefined;
  #stopWatch: (() => void) | undefined;
  readonly #onSignal: (() => void) | undefined;
  readonly #signal: AbortSignal | undefined;

  private constructor(ctx: StageContext, name: string, o: ResolvedStageOptions) {
    this.#ctx = ctx;
    this.name = name;
    this.names = stageNames(ctx.pipeline, name);
    this.#codec = o.codec;
    this.#capacity = o.capacity;
    this.#maxWIP = o.maxWIP;
    this.#unavailableMs = o.unavailableTimeoutMs;
    this.#storage = o.storage;
    this.#gate = new Gate(o.capacity);
    this.#queue = new ResultQueue<R>(() => this.#onTaken());
    this.#ledger = new Ledger<R>(o.maxDeliver, (result) => this.#queue.push(result));
    this.#board = new WorkerBoard(o.workerStaleMs);
    this.#signal = o.signal;
    if (o.signal) {
      this.#onSignal = () => this.#cancel(o.signal?.reason);
      o.signal.addEventListener('abort', this.#onSignal, { once: true });
    }
  }

  /** @internal Use `cluster.stage()`. */
  static async create<T, R>(
    ctx: StageContext,
    name: string,
    options?: ClusterStageOptions,
  ): Promise<ClusterStage<T, R>> {
    checkName('stage', name);
    const o = resolveStageOptions(options);
    o.signal?.throwIfAborted();
    await ensureStage(ctx.jsm, stageNames(ctx.pipeline, name), o);
    const stage = new ClusterStage<T, R>(ctx, name, o);
    stage.#statsSub = subscribeWorkerStats(ctx.nc, stage.names, stage.#board);
    stage.#results = new ResultListener(
      ctx.nc,
      stage.names,
      (m) => stage.#onResultMessage(m),
      // Held acks keep items "pending" on the server: only while every item not yet answered
      // could still be delivered beside them.
      (held) => stage.#ledger.outstanding + held <= stage.#maxWIP,
    );
    stage.#stopWatch = watchConnection(
      ctx.nc,
      o.unavailableTimeoutMs,
      (error) => stage.#fail(error),
      o.storage === 'memory' ? () => void stage.#checkMemoryStore() : undefined,
    );
    return stage;
  }

  #onResultMessage(m: Msg): void {
    this.#ledger.onResult(decodeResult(m, this.#codec));
    this.#checkDone();
  }

  #onTaken(): void {
    this.#gate.release();
    this.#checkDone();
  }

  /**
   * Offers `item`. Resolves once it is stored in the work stream: then exactly one result for
   * it will appear on `out()`. Waits (FIFO) while `capacity` items are held or admission is
   * paused. Rejects with: flow's `ClosedError` after `closeInput()` (at once, and for waiting
   * submits); `PayloadTooLargeError` when the encoded item is above the server's max payload
   * (less 256 bytes for headers) — checked before waiting, nothing is sent; the codec's error when
   * it cannot encode the item; `options.signal`'s reason when it aborts first (while waiting for
   * room or for the server); `ClusterUnavailableError` when the server stays unreachable for
   * `unavailableTimeoutMs`. A rejected submit yields no result.
   */
  submit(item: T, options?: { signal?: AbortSignal }): Promise<void> {
    if (this.#inputClosed) return Promise.reject(this.#terminal ?? new ClosedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let body: Uint8Array;
    try {
      body = this.#codec.encode(item);
    } catch (error) {
      return Promise.reject(error);
    }
    const max = this.#ctx.nc.info?.max_payload ?? 1024 * 1024;
    if (body.length > max - HEADER_ROOM) {
      return Promise.reject(new PayloadTooLargeError('the item', body.length, max - HEADER_ROOM));
    }
    if (this.#gate.free) {
      this.#gate.take();
      return this.#send(body, signal);
    }
    return this.#gate.wait(signal).then(() => {
      if (this.#inputClosed) {
        this.#gate.release();
        throw this.#terminal ?? new ClosedError();
      }
      return this.#send(body, signal);
    });
  }

  async #send(body: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    const ledger = this.#ledger;
    const id = ledger.begin();
    // One more item to deliver: acks held back must not keep it waiting (they leave first).
    this.#results?.recheck();
    try {
      const seq = await publishItem(
        this.#ctx.nc,
        this.#ctx.js,
        this.names.workSubject,
        body,
        id,
        messageHeaders(id, this.#codec),
        {
          deadline: performance.now() + this.#unavailableMs,
          timeoutMs: this.#unavailableMs,
          signal,
          failure: () => (this.#inputClosed ? this.#terminal : undefined),
        },
      );
      if (seq > this.#lastStoredSeq) this.#lastStoredSeq = seq;
    } catch (error) {
      const reject = ledger.unstored(id);
      if (reject) this.#gate.release();
      this.#checkDone();
      if (reject) throw signal?.aborted ? signal.reason : error;
      return;
    }
    ledger.stored(id);
    this.#checkDone();
  }

  /**
   * No more submits. Idempotent. Waiting submits are rejected with `ClosedError`; items already
   * accepted still get their results, then `out()` ends.
   */
  closeInput(): void {
    if (this.#inputClosed) return;
    this.#inputClosed = true;
    this.#gate.rejectAll(this.#terminal ?? new ClosedError());
    this.#checkDone();
  }

  /** The results, one per accepted submit, in arrival order; the same iterator every time. */
  out(): AsyncIterableIterator<Result<R>> {
    return this.#queue;
  }

  /** The same iterator as `out()`, so `for await (const r of stage)` reads the results. */
  [Symbol.asyncIterator](): AsyncIterator<Result<R>> {
    return this.#queue;
  }

  /**
   * Settles when the stage has finished: input closed, every result taken. Resolves even when
   * results were errors (check them); rejects with `ClusterUnavailableError` when the stage ended
   * because the server stayed unreachable.
   */
  wait(): Promise<void> {
    return this.#done.then(() => {
      if (this.#terminal !== undefined) throw this.#terminal;
    });
  }

  /**
   * Resolves when finished with the terminal cause (never rejects): undefined, the unavailable
   * error, or the signal's (or dispose's) reason.
   */
  cause(): Promise<unknown> {
    return this.#done.then(() => this.#terminal ?? this.#cancelReason);
  }

  /** Drops every result (now and later), then behaves as `wait()`. */
  discardAndWait(): Promise<void> {
    this.#queue.discard();
    return this.wait();
  }

  #checkDone(): void {
    if (this.#finished || !this.#inputClosed || !this.#ledger.settled) return;
    if (!this.#queue.ended) this.#queue.end();
    if (this.#queue.length > 0) return;
    this.#finished = true;
    // Every item is answered: let the last ones go now, so nothing is left in the stream.
    this.#results?.flush();
    this.#shutdownBackground();
    this.#resolveDone();
  }

  /** After a break, for `storage: 'memory'`: fails the stage if the server lost its items. */
  async #checkMemoryStore(): Promise<void> {
    if (this.#finished) return;
    const lost = await storeLost(this.#ctx.jsm, this.names.workStream, this.#lastStoredSeq);
    if (lost) this.#fail(lost);
  }

  #fail(error: unknown): void {
    if (this.#finished || this.#terminal !== undefined) return;
    this.#terminal = error;
    this.#inputClosed = true;
    this.#gate.rejectAll(error);
    this.#ledger.cancelAll(error);
    this.#checkDone();
  }

  #cancel(reason: unknown): void {
    if (this.#finished) return;
    this.#cancelReason ??= reason;
    this.#inputClosed = true;
    this.#gate.rejectAll(new ClosedError());
    this.#ledger.cancelAll(reason);
    // Items left in the stream would only keep workers busy for nothing.
    this.#ctx.jsm.streams.purge(this.names.workStream).catch(() => {});
    this.#checkDone();
  }

  #shutdownBackground(): void {
    this.#stopWatch?.();
    if (this.#signal && this.#onSignal) this.#signal.removeEventListener('abort', this.#onSignal);
  }

  /**
   * A snapshot in flow's `Stats` shape plus cluster counters. After `wait()` flow's invariants
   * hold: `submitted = completed + canceled`, `panicked <= failed <= completed`, the gauges 0, and
   * `serviceTimeDist.count + underflow + overflow = completed - deadLettered`.
   */
  stats(): ClusterStats {
    const g = this.#gate;
    const live = this.#finished
      ? { slots: 0, inFlight: 0, idleTimeMs: this.#board.totals().idleTimeMs }
      : this.#board.totals();
    const l = this.#ledger;
    const outstanding = l.outstanding;
    const inFlight = Math.min(live.inFlight, outstanding);
    return {
      submitted: l.submitted,
      completed: l.completed,
      failed: l.failed,
      panicked: l.panicked,
      canceled: l.canceled,
      received: 0,
      forwarded: 0,
      dropped: 0,
      serviceTimeMs: l.serviceMs,
      idleTimeMs: live.idleTimeMs,
      outputBlockedTimeMs: this.#queue.blockedMs,
      bufferedDepth: outstanding - inFlight,
      inFlightWeight: inFlight,
      queueCapacity: this.#capacity,
      paused: g.paused,
      maxWIP: this.#maxWIP,
      maxWIPWeight: 0,
      admittedWeight: g.held,
      admitted: g.held,
      waiterCount: g.waiterCount,
      maxWaiterCount: g.maxWaiterCount,
      targetWorkers: live.slots,
      activeWorkers: live.slots,
      wipWaitCount: g.wipWaitCount,
      wipWaitMs: g.wipWaitMs,
      serviceTimeDist: l.hist.summary(),
      duplicates: l.duplicates,
      stale: l.stale,
      deadLettered: l.deadLettered,
      malformed: l.malformed,
      workers: this.#board.size,
    };
  }

  /** Every worker's latest report (which process, done, failed, in flight, service time). */
  workerStats(): WorkerStats[] {
    return this.#board.list();
  }

  /** Every worker's service-time histogram merged (every run, re-runs included). */
  mergedServiceTime(): ServiceTimeSummary {
    return this.#board.merged();
  }

  /**
   * Sets the rope: the workers' consumer's `max_ack_pending`, clamped to [1, capacity]; returns
   * the applied value at once and updates the server in the background (updates are applied in
   * order; `maxWIPApplied()` waits for them). Lowering it revokes nothing: items already in flight
   * finish.
   */
  setMaxWIP(n: number): number {
    if (typeof n !== 'number' || Number.isNaN(n))
      throw new InvalidOptionError('maxWIP', 'must be a number');
    const v = Math.max(1, Math.min(Math.floor(n), this.#capacity));
    if (v === this.#maxWIP) return v;
    this.#maxWIP = v;
    this.#results?.recheck();
    this.#wipUpdate = this.#wipUpdate.then(async () => {
      if (this.#maxWIP !== v) return;
      try {
        await this.#ctx.jsm.consumers.update(this.names.workStream, this.names.workConsumer, {
          max_ack_pending: v,
        });
        this.#wipError = undefined;
      } catch (error) {
        this.#wipError = error;
      }
    });
    return v;
  }

  /** Resolves once the server has the latest `setMaxWIP` value; rejects with the update's error. */
  async maxWIPApplied(): Promise<number> {
    let p: Promise<void>;
    do {
      p = this.#wipUpdate;
      await p;
    } while (p !== this.#wipUpdate);
    if (this.#wipError !== undefined) throw this.#wipError;
    return this.#maxWIP;
  }

  /** Holds new admissions (waiting submits wait on). Idempotent. */
  pauseAdmission(): void {
    this.#gate.paused = true;
  }

  /** Lets admission go on. Idempotent. */
  resumeAdmission(): void {
    this.#gate.paused = false;
    this.#gate.pump();
  }

  /**
   * Deletes the stage's work stream and its consumer from the server (what `wait()` leaves there:
   * the empty stream). Cancels the stage first if it has not finished. Workers
   * still serving it wait for it to be created again.
   */
  async remove(): Promise<void> {
    await this[Symbol.asyncDispose]();
    await removeStage(this.#ctx.jsm, this.names);
  }

  /**
   * Stops the stage: if it has not finished, cancels it (pending items get a canceled result
   * with a `ClusterClosedError`, the work stream is purged) and drops unread results; then stops
   * listening for results and worker stats. The work stream stays on the server (see `remove()`).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#finished) {
      this.#cancel(new ClusterClosedError('the stage'));
      this.#queue.discard();
      this.#checkDone();
    }
    this.#shutdownBackground();
    // Results heard until now had their items acknowledged (duplicates that came after the
    // stage finished too); from here on, one that comes is the next coordinator's to answer.
    await this.#results?.close();
    this.#results = undefined;
    await this.#statsSub?.drain().catch(() => {});
    this.#statsSub = undefined;
    this.#ctx.forget(this);
  }
}
