/**
 * `ClusterStage`: the coordinator's side of a stage whose `fn` runs in workers elsewhere. It has
 * flow's Stage surface (`StageLike`), so it sits in a `Topology` beside local stages.
 *
 * An item holds one of `capacity` permits from `submit` until its result is taken from `out()`;
 * items go to the work stream, results come back on the result stream and are matched to the
 * pending items by id: the first result for an id is delivered, any later one (a re-run after a
 * redelivery) is dropped, so every accepted submit yields exactly one result.
 */
import { randomBytes } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { ServiceTimeSummary } from '../flow/index.js';
import { ClosedError, type Result, type StageLike } from '../flow/index.js';
import { InvalidOptionError } from '../proc/index.js';
import { builtinCodecs, type Codec, type CodecOption, resolveCodec } from './codec.js';
import {
  asEnvelope,
  H_CODEC,
  H_ID,
  HEADER_ROOM,
  messageHeaders,
  type ResultEnvelope,
  toResult,
} from './envelope.js';
import {
  ClusterClosedError,
  ClusterUnavailableError,
  DeadLetterError,
  PayloadTooLargeError,
} from './errors.js';
import { Gate } from './gate.js';
import { ServiceHistogram } from './histogram.js';
import { checkName, type StageNames, stageNames } from './names.js';
import { ResultQueue } from './result-queue.js';
import { ensureStage, removeStage } from './setup.js';
import type { ClusterStats } from './stats.js';
import { msgpackDecode, sleep, stopOn } from './util.js';
import { asReport, WorkerBoard, type WorkerStats } from './worker-stats.js';

/** Options of `cluster.stage()`. */
export interface ClusterStageOptions {
  /**
   * The bounded buffer: items submitted and not yet answered (queued in the stream or in a
   * worker) plus results not yet taken from `out()`. It is the work stream's `max_msgs`; `submit`
   * waits while it is full.
   * @default 1000
   */
  capacity?: number;
  /**
   * The rope: items in flight across every worker of every process (the workers' consumer's
   * `max_ack_pending`), clamped to [1, capacity]. Change it live with `setMaxWIP`.
   * @default capacity
   */
  maxWIP?: number;
  /**
   * How long a worker may hold an item without acknowledging it before the server gives it to
   * another worker. Workers send `working()` heartbeats while `fn` runs, so a long item keeps its
   * lease; only a dead or frozen worker loses it.
   * @default 30000
   */
  ackWaitMs?: number;
  /**
   * Deliveries of one item before it is dead-lettered: reported as a failed result
   * (`DeadLetterError`) and removed instead of being tried again.
   * @default 5
   */
  maxDeliver?: number;
  /** How items and results are encoded: `'msgpack'`, `'json'` or a `Codec`. @default 'msgpack' */
  codec?: CodecOption;
  /**
   * How long the server may be unreachable before waiting submits and pending items fail with
   * `ClusterUnavailableError` (the stage then ends: `wait()` rejects with it).
   * @default 30000
   */
  unavailableTimeoutMs?: number;
  /** A worker silent for this long no longer counts as live in `stats()`. @default 5000 */
  workerStaleMs?: number;
  /** Aborting it cancels the stage: pending items get a canceled result (the signal's reason). */
  signal?: AbortSignal;
}

/** @internal What a cluster hands its stages. */
export interface StageContext {
  pipeline: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  forget(stage: ClusterStage<unknown, unknown>): void;
}

interface Pending {
  /** Publishing: its submit has not resolved yet; a result that comes early waits here. */
  publishing: boolean;
  early: ResultEnvelope | undefined;
}

function positiveInt(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(option, `must be a positive integer (got ${String(value)})`);
  }
  return value;
}

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
  readonly #maxDeliver: number;
  readonly #run = randomBytes(6).toString('hex');
  #seq = 0;
  readonly #gate: Gate;
  readonly #queue: ResultQueue<R>;
  readonly #pending = new Map<string, Pending>();
  readonly #board: WorkerBoard;
  readonly #hist = new ServiceHistogram();
  #maxWIP: number;
  #wipUpdate: Promise<void> = Promise.resolve();
  #wipError: unknown;
  #inputClosed = false;
  #publishing = 0;
  #finished = false;
  #terminal: unknown;
  #cancelReason: unknown;
  #resolveDone!: () => void;
  readonly #done = new Promise<void>((r) => {
    this.#resolveDone = r;
  });
  readonly #stop = new AbortController();
  #statsSub: Subscription | undefined;
  #reader: Promise<void> = Promise.resolve();
  #downSince: number | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #onSignal: (() => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  // Counters.
  #submitted = 0;
  #completed = 0;
  #failed = 0;
  #panicked = 0;
  #canceled = 0;
  #serviceMs = 0;
  #duplicates = 0;
  #stale = 0;
  #deadLettered = 0;
  #malformed = 0;

  private constructor(
    ctx: StageContext,
    name: string,
    o: Required<Omit<ClusterStageOptions, 'signal' | 'codec'>> & {
      codec: Codec;
      signal: AbortSignal | undefined;
    },
  ) {
    this.#ctx = ctx;
    this.name = name;
    this.names = stageNames(ctx.pipeline, name);
    this.#codec = o.codec;
    this.#capacity = o.capacity;
    this.#maxWIP = o.maxWIP;
    this.#maxDeliver = o.maxDeliver;
    this.#unavailableMs = o.unavailableTimeoutMs;
    this.#gate = new Gate(o.capacity);
    this.#queue = new ResultQueue<R>(() => this.#onTaken());
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
    options: ClusterStageOptions = {},
  ): Promise<ClusterStage<T, R>> {
    checkName('stage', name);
    if (options === null || typeof options !== 'object')
      throw new InvalidOptionError('options', 'must be an object');
    const capacity = positiveInt('capacity', options.capacity, 1000);
    const maxWIP = Math.min(positiveInt('maxWIP', options.maxWIP, capacity), capacity);
    const o = {
      capacity,
      maxWIP,
      ackWaitMs: positiveInt('ackWaitMs', options.ackWaitMs, 30_000),
      maxDeliver: positiveInt('maxDeliver', options.maxDeliver, 5),
      unavailableTimeoutMs: positiveInt(
        'unavailableTimeoutMs',
        options.unavailableTimeoutMs,
        30_000,
      ),
      workerStaleMs: positiveInt('workerStaleMs', options.workerStaleMs, 5000),
      codec: resolveCodec(options.codec),
      signal: options.signal,
    };
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
      throw new InvalidOptionError('signal', 'must be an AbortSignal');
    }
    if (o.ackWaitMs < 100) throw new InvalidOptionError('ackWaitMs', 'must be at least 100');
    o.signal?.throwIfAborted();
    const n = stageNames(ctx.pipeline, name);
    await ensureStage(ctx.jsm, n, o);
    const stage = new ClusterStage<T, R>(ctx, name, o);
    stage.#startBackground();
    return stage;
  }

  #startBackground(): void {
    const nc = this.#ctx.nc;
    this.#statsSub = nc.subscribe(this.names.statsSubject, {
      callback: (error, msg) => {
        if (error) return;
        try {
          const report = asReport(msgpackDecode(msg.data));
          if (report) this.#board.update(report);
        } catch {}
      },
    });
    this.#reader = this.#readResults();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.#downSince ??= performance.now();
        else if (s.type === 'reconnect') this.#downSince = undefined;
      }
    })().catch(() => {});
    void nc.closed().then(() => {
      if (!this.#finished)
        this.#fail(new ClusterUnavailableError('the NATS connection was closed'));
    });
    this.#watchdog = setInterval(
      () => {
        if (
          this.#downSince !== undefined &&
          performance.now() - this.#downSince > this.#unavailableMs
        ) {
          this.#fail(
            new ClusterUnavailableError(
              `the NATS server was unreachable for more than ${this.#unavailableMs} ms`,
            ),
          );
        }
      },
      Math.min(250, this.#unavailableMs),
    );
    this.#watchdog.unref();
  }

  async #readResults(): Promise<void> {
    const stop = this.#stop.signal;
    let backoff = 50;
    while (!stop.aborted) {
      try {
        const consumer = await this.#ctx.js.consumers.get(
          this.names.resultStream,
          this.names.resultConsumer,
        );
        const messages = await consumer.consume({ max_messages: 256 });
        const off = stopOn(stop, () => void messages.close());
        try {
          for await (const m of messages) {
            backoff = 50;
            this.#onResultMessage(m);
            m.ack();
          }
        } finally {
          off();
        }
      } catch {
        if (stop.aborted) break;
      }
      await sleep(backoff, stop);
      backoff = Math.min(backoff * 2, 1000);
    }
  }

  #onResultMessage(m: JsMsg): void {
    let envelope: ResultEnvelope | undefined;
    try {
      const codecName = m.headers?.get(H_CODEC) ?? this.#codec.name;
      const codec = codecName === this.#codec.name ? this.#codec : builtinCodecs.get(codecName);
      envelope = codec ? asEnvelope(codec.decode(m.data)) : undefined;
    } catch {}
    const id = envelope?.id ?? m.headers?.get(H_ID) ?? '';
    if (envelope === undefined) {
      this.#malformed++;
      return;
    }
    if (!id.startsWith(`${this.#run}.`)) {
      this.#stale++;
      return;
    }
    const p = this.#pending.get(id);
    if (p === undefined || p.early !== undefined) {
      this.#duplicates++;
      return;
    }
    if (p.publishing) {
      p.early = envelope;
      return;
    }
    this.#accept(id, envelope);
  }

  #accept(id: string, envelope: ResultEnvelope): void {
    this.#pending.delete(id);
    this.#completed++;
    let result: Result<R>;
    if (envelope.deadLetter) {
      this.#deadLettered++;
      this.#failed++;
      result = { ok: false, error: new DeadLetterError(this.#maxDeliver) };
    } else {
      if (!envelope.ok) this.#failed++;
      if (envelope.panicked) this.#panicked++;
      this.#serviceMs += envelope.serviceMs;
      this.#hist.record(envelope.serviceMs);
      result = toResult<R>(envelope);
    }
    this.#queue.push(result);
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
    const id = `${this.#run}.${++this.#seq}`;
    const entry: Pending = { publishing: true, early: undefined };
    this.#pending.set(id, entry);
    this.#publishing++;
    const headers = messageHeaders(id, this.#codec, id);
    headers.delete('Nats-Msg-Id');
    const deadline = performance.now() + this.#unavailableMs;
    let backoff = 5;
    try {
      for (;;) {
        if (this.#inputClosed && this.#terminal !== undefined) throw this.#terminal;
        try {
          await this.#ctx.js.publish(this.names.workSubject, body, {
            msgID: id,
            headers,
            timeout: Math.max(100, Math.min(5000, deadline - performance.now())),
          });
          break;
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          const full = /maximum messages/i.test(String((error as Error).message));
          if (!full && performance.now() >= deadline) {
            throw new ClusterUnavailableError(
              `could not store an item for ${this.#unavailableMs} ms`,
              { cause: error },
            );
          }
          if (this.#ctx.nc.isClosed())
            throw new ClusterUnavailableError('the NATS connection was closed', { cause: error });
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 250);
        }
      }
    } catch (error) {
      this.#publishing--;
      if (!this.#pending.has(id)) {
        // Canceled while publishing: it already has its canceled result, so it was accepted.
        this.#submitted++;
        this.#checkDone();
        return;
      }
      this.#pending.delete(id);
      this.#gate.release();
      this.#checkDone();
      throw signal?.aborted ? signal.reason : error;
    }
    this.#publishing--;
    if (!this.#pending.has(id)) {
      // The stage failed or was canceled while this publish was in flight: the item got its
      // (canceled) result there, so this submit counts as accepted.
      this.#submitted++;
      this.#checkDone();
      return;
    }
    this.#submitted++;
    entry.publishing = false;
    if (entry.early !== undefined) {
      const early = entry.early;
      entry.early = undefined;
      this.#accept(id, early);
    }
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

  /** Resolves when finished with the terminal cause: undefined, the unavailable error, or the signal's reason. */
  cause(): Promise<unknown> {
    return this.#done.then(() => this.#terminal ?? this.#cancelReason);
  }

  /** Drops every result (now and later), then behaves as `wait()`. */
  discardAndWait(): Promise<void> {
    this.#queue.discard();
    return this.wait();
  }

  #checkDone(): void {
    if (this.#finished || !this.#inputClosed || this.#pending.size > 0 || this.#publishing > 0)
      return;
    if (!this.#queue.ended) this.#queue.end();
    if (this.#queue.length > 0) return;
    this.#finished = true;
    this.#shutdownBackground();
    this.#resolveDone();
  }

  /** Ends every pending item with a canceled result carrying `reason`. */
  #cancelPending(reason: unknown): void {
    const ids = [...this.#pending.keys()];
    for (const id of ids) {
      this.#pending.delete(id);
      this.#canceled++;
      this.#queue.push({ ok: false, error: reason });
    }
  }

  #fail(error: unknown): void {
    if (this.#finished || this.#terminal !== undefined) return;
    this.#terminal = error;
    this.#inputClosed = true;
    this.#gate.rejectAll(error);
    this.#cancelPending(error);
    this.#checkDone();
  }

  #cancel(reason: unknown): void {
    if (this.#finished) return;
    this.#cancelReason ??= reason;
    this.#inputClosed = true;
    this.#gate.rejectAll(new ClosedError());
    this.#cancelPending(reason);
    // Items left in the stream would only keep workers busy for nothing.
    this.#ctx.jsm.streams.purge(this.names.workStream).catch(() => {});
    this.#checkDone();
  }

  #shutdownBackground(): void {
    this.#stop.abort();
    clearInterval(this.#watchdog);
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
    const outstanding = this.#pending.size;
    const inFlight = Math.min(live.inFlight, outstanding);
    return {
      submitted: this.#submitted,
      completed: this.#completed,
      failed: this.#failed,
      panicked: this.#panicked,
      canceled: this.#canceled,
      received: 0,
      forwarded: 0,
      dropped: 0,
      serviceTimeMs: this.#serviceMs,
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
      serviceTimeDist: this.#hist.summary(),
      duplicates: this.#duplicates,
      stale: this.#stale,
      deadLettered: this.#deadLettered,
      malformed: this.#malformed,
      workers: this.#board.list().length,
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
   * Deletes the stage's streams and consumers from the server (what `wait()` leaves there: two
   * empty streams and their consumers). Cancels the stage first if it has not finished. Workers
   * still serving it wait for it to be created again.
   */
  async remove(): Promise<void> {
    await this[Symbol.asyncDispose]();
    await removeStage(this.#ctx.jsm, this.names);
  }

  /**
   * Stops the stage: if it has not finished, cancels it (pending items get a canceled result
   * with a `ClusterClosedError`, the work stream is purged) and drops unread results; then stops
   * reading results and worker stats. The streams stay on the server (see `remove()`).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#finished) {
      this.#cancel(new ClusterClosedError('the stage'));
      this.#queue.discard();
      this.#checkDone();
    }
    this.#shutdownBackground();
    await this.#reader;
    await this.#statsSub?.drain().catch(() => {});
    this.#statsSub = undefined;
    this.#ctx.forget(this as ClusterStage<unknown, unknown>);
  }
}
