/**
 * `StageServer`: the worker's side of a cluster stage. It pulls as many items as it has free
 * slots from the stage's work consumer (see `Puller`), runs `fn`, and sends the result to the
 * coordinator, which acknowledges the item once it holds the result; so a worker (or a
 * coordinator, or a message) lost at any point leaves the item to be delivered again
 * (at-least-once runs, exactly-once results after the coordinator's de-duplication).
 */
import { hostname } from 'node:os';
import { InvalidOptionError } from '../../proc/index.js';
import { DeadLetterError, DecodeError } from '../errors.js';
import { builtinCodecs, type Codec } from '../wire/codec.js';
import { H_CODEC, H_ID, type ResultEnvelope, wireError } from '../wire/envelope.js';
import { ServiceHistogram } from '../wire/histogram.js';
import { checkName, JS_API_PREFIX, type StageNames, stageNames } from '../wire/names.js';
import { msgpackEncode, sleep } from '../wire/util.js';
import type { WorkerReport, WorkerStats } from '../wire/worker-stats.js';
import { ConsumerLimits, type Limits } from './consumer-limits.js';
import type { Delivery } from './delivery.js';
import { Puller } from './puller.js';
import { type ResultTarget, sendResult } from './send-result.js';
import {
  type ClusterFn,
  resolveServeOptions,
  type ServeContext,
  type ServeOptions,
  type StageServer,
} from './serve-options.js';

export type { ClusterFn, ServeOptions, StageServer };

let serverCount = 0;

interface Running {
  ac: AbortController;
  handBack: () => void;
  handedBack: boolean;
}

/** @internal Use `cluster.serve()`. */
export class Server<T, R> implements StageServer {
  readonly id: string;
  readonly #ctx: ServeContext;
  readonly #names: StageNames;
  readonly #fn: ClusterFn<T, R>;
  readonly #codec: Codec;
  readonly #slots: number;
  readonly #graceMs: number;
  readonly #pollMs: number;
  readonly #stopCtl = new AbortController();
  readonly #running = new Map<Delivery, Running>();
  readonly #results: ResultTarget;
  readonly #hist = new ServiceHistogram();
  /** The consumer's limits once it is known (the pump asks for items only then). */
  #limits: Limits | undefined;
  readonly #consumer: ConsumerLimits;
  #lookupBackoff = 0;
  readonly #puller: Puller;
  /** Results of finished items, sent on the pump's next turn (see `#pump`). */
  readonly #toFinish: (() => void)[] = [];
  /** Items received while every slot was taken (a lost pull answered late): run next. */
  readonly #queued: Delivery[] = [];
  /** Items taken and not yet let go of (in `fn`; a dead letter only until its result is queued). */
  #busy = 0;
  #pumpScheduled = false;
  #stopping: Promise<void> | undefined;
  /** Settles `stop`'s wait once nothing is busy, queued, or asked for. */
  #onDrained: (() => void) | undefined;
  /** Idle slot time is counted from here (performance.now()); undefined once stopped. */
  #idleMark: number | undefined = performance.now();
  #statsTimer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;
  #resolveDone!: () => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onSignal: (() => void) | undefined;
  // Counters.
  #received = 0;
  #done = 0;
  #failed = 0;
  #deadLettered = 0;
  #handedBack = 0;
  #maxInFlight = 0;
  #serviceMs = 0;
  #idleMs = 0;

  constructor(ctx: ServeContext, stage: string, fn: ClusterFn<T, R>, options?: ServeOptions) {
    checkName('stage', stage);
    if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'must be a function');
    const o = resolveServeOptions(options);
    this.#slots = o.slots;
    this.#graceMs = o.graceMs;
    this.#pollMs = o.pollMs;
    this.#codec = o.codec;
    const statsMs = o.statsIntervalMs;
    this.#ctx = ctx;
    this.#names = stageNames(ctx.pipeline, stage);
    this.#fn = fn;
    this.id = `${hostname()}:${process.pid}:${++serverCount}`;
    this.done = new Promise((r) => {
      this.#resolveDone = r;
    });
    this.#signal = o.signal;
    if (o.signal) {
      this.#onSignal = () => void this.stop();
      if (o.signal.aborted) queueMicrotask(this.#onSignal);
      else o.signal.addEventListener('abort', this.#onSignal, { once: true });
    }
    this.#puller = new Puller(
      ctx.nc,
      JS_API_PREFIX,
      this.#names.workStream,
      this.#names.workConsumer,
      this.#pollMs,
      {
        item: (d) => this.#onItem(d),
        ended: () => this.#pump(),
        gone: () => this.#lost(),
      },
    );
    this.#consumer = new ConsumerLimits(ctx.js, this.#names, this.#stopCtl.signal);
    this.#results = { nc: ctx.nc, subject: this.#names.resultSubject };
    this.#lookUp();
    this.#statsTimer = setInterval(() => this.#publishStats(false), statsMs);
    this.#statsTimer.unref();
    this.#publishStats(false);
  }

  /** Finds the consumer (waiting for the coordinator to create it), then starts pulling. */
  #lookUp(): void {
    void this.#consumer.get().then((c) => {
      if (c === undefined) return;
      this.#limits = c; // updated in place when the coordinator changes them
      this.#pump();
    });
  }

  /** The consumer went away (or refused a pull): look it up again after a backoff. */
  #lost(): void {
    this.#consumer.forget();
    this.#limits = undefined;
    this.#lookupBackoff = Math.min(Math.max(this.#lookupBackoff * 2, 50), 1000);
    void sleep(this.#lookupBackoff, this.#stopCtl.signal).then(() => {
      if (!this.#stopCtl.signal.aborted) this.#lookUp();
      else this.#checkDrained();
    });
  }

  /**
   * Once per turn of the event loop: asks for as many items as there are free slots and sends
   * the results of the items that finished. Slots freed together share one pull request, and the
   * pull and the results leave in one write (the client writes what was queued in one go), the
   * pull first, so the server hands out the next item before it routes the results.
   */
  #pump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      if (!this.#stopCtl.signal.aborted && this.#limits !== undefined) {
        while (this.#queued.length > 0 && this.#busy < this.#slots)
          this.#start(this.#queued.shift()!);
        const free = this.#slots - this.#busy - this.#queued.length;
        if (free > 0) this.#puller.request(free);
      }
      for (const finish of this.#toFinish.splice(0)) finish();
      if (this.#stopCtl.signal.aborted) this.#checkDrained();
    });
  }

  #onItem(d: Delivery): void {
    if (this.#stopCtl.signal.aborted) {
      d.nak();
      this.#handedBack++;
      return;
    }
    this.#lookupBackoff = 0;
    if (this.#busy < this.#slots && this.#limits !== undefined) this.#start(d);
    else this.#queued.push(d);
  }

  #start(d: Delivery): void {
    const limits = this.#limits!;
    this.#accrueIdle();
    this.#busy++;
    void this.#handle(d, limits.ackWaitMs, limits.maxDeliver).finally(() => {
      this.#accrueIdle();
      this.#busy--;
      this.#pump();
    });
  }

  /** Adds the free slots' time since the last change to the idle time. */
  #accrueIdle(): void {
    if (this.#idleMark === undefined) return;
    const now = performance.now();
    this.#idleMs += (this.#slots - this.#busy) * (now - this.#idleMark);
    this.#idleMark = now;
  }

  #checkDrained(): void {
    if (
      this.#busy === 0 &&
      this.#queued.length === 0 &&
      this.#toFinish.length === 0 &&
      !this.#puller.open
    )
      this.#onDrained?.();
  }

  async #handle(msg: Delivery, ackWaitMs: number, maxDeliver: number): Promise<void> {
    this.#received++;
    const id = msg.headers?.get(H_ID) ?? `seq.${msg.seq}`;
    const deliveries = msg.deliveryCount;
    let envelope: ResultEnvelope;
    let codec: Codec = this.#codec;
    if (deliveries > maxDeliver) {
      this.#deadLetter(msg, id, maxDeliver);
      return;
    }
    const running: Running = { ac: new AbortController(), handedBack: false, handBack: () => {} };
    const handedBack = new Promise<'handed-back'>((resolve) => {
      running.handBack = () => {
        running.handedBack = true;
        resolve('handed-back');
      };
    });
    this.#running.set(msg, running);
    if (this.#running.size > this.#maxInFlight) this.#maxInFlight = this.#running.size;
    const heartbeat = setInterval(() => msg.working(), Math.max(50, ackWaitMs / 3));
    const t0 = performance.now();
    let serviceMs = 0;
    try {
      const name = msg.headers?.get(H_CODEC) || this.#codec.name;
      const known = name === this.#codec.name ? this.#codec : builtinCodecs.get(name);
      if (known === undefined)
        throw new DecodeError(
          `an item in codec "${name}" (this worker knows msgpack, json and ${this.#codec.name})`,
        );
      codec = known;
      let item: T;
      try {
        item = codec.decode(msg.data) as T;
      } catch (error) {
        throw new DecodeError(`an item (codec ${codec.name})`, { cause: error });
      }
      const outcome = await Promise.race([
        (async () => {
          try {
            return { ok: true as const, value: await this.#fn(item, running.ac.signal) };
          } catch (thrown) {
            return { ok: false as const, thrown };
          }
        })(),
        handedBack,
      ]);
      serviceMs = performance.now() - t0;
      if (outcome === 'handed-back') return;
      if (outcome.ok) envelope = { id, ok: true, value: outcome.value, worker: this.id, serviceMs };
      else {
        const w = wireError(outcome.thrown);
        envelope = {
          id,
          ok: false,
          error: w.error,
          panicked: w.panicked,
          worker: this.id,
          serviceMs,
        };
      }
    } catch (error) {
      serviceMs = performance.now() - t0;
      const w = wireError(error);
      envelope = { id, ok: false, error: w.error, worker: this.id, serviceMs };
    } finally {
      clearInterval(heartbeat);
    }
    this.#running.delete(msg);
    if (running.handedBack) return;
    // Sent on the pump's turn, together with the next pull.
    this.#toFinish.push(() => this.#finish(msg, id, envelope, codec, serviceMs));
  }

  /** Sends a dead letter for an item delivered more than `maxDeliver` times (on the pump's turn). */
  #deadLetter(msg: Delivery, id: string, maxDeliver: number): void {
    const e = new DeadLetterError(maxDeliver);
    const envelope: ResultEnvelope = {
      id,
      ok: false,
      deadLetter: true,
      error: { name: e.name, message: e.message, code: e.code },
      worker: this.id,
      serviceMs: 0,
    };
    this.#deadLettered++;
    this.#toFinish.push(() => sendResult(this.#results, id, envelope, this.#codec, msg));
  }

  /**
   * Sends a finished item's result (the coordinator acknowledges the item when it has it) and
   * counts it. A result that cannot be sent (the connection closed for good) is not counted: its
   * item is delivered again after the ack wait.
   */
  #finish(
    msg: Delivery,
    id: string,
    result: ResultEnvelope,
    codec: Codec,
    serviceMs: number,
  ): void {
    if (!sendResult(this.#results, id, result, codec, msg)) return;
    this.#done++;
    if (!result.ok) this.#failed++;
    this.#serviceMs += serviceMs;
    this.#hist.record(serviceMs);
  }

  stats(): WorkerStats {
    const { hist: _h, underflow: _u, overflow: _o, ...rest } = this.#report(false);
    return { ...rest, serviceTimeDist: this.#hist.summary() };
  }

  #report(stopped: boolean): WorkerReport {
    const now = performance.now();
    let idle = this.#idleMs;
    if (this.#idleMark !== undefined) idle += (this.#slots - this.#busy) * (now - this.#idleMark);
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      slots: stopped ? 0 : this.#slots,
      received: this.#received,
      done: this.#done,
      failed: this.#failed,
      deadLettered: this.#deadLettered,
      handedBack: this.#handedBack,
      inFlight: this.#running.size,
      maxInFlight: this.#maxInFlight,
      serviceTimeMs: this.#serviceMs,
      idleTimeMs: idle,
      at: Date.now(),
      stopped,
      hist: this.#hist.encode(),
      underflow: this.#hist.underflow,
      overflow: this.#hist.overflow,
    };
  }

  #publishStats(stopped: boolean): void {
    if (this.#ctx.nc.isClosed()) return;
    try {
      this.#ctx.nc.publish(this.#names.statsSubject, msgpackEncode(this.#report(stopped)));
    } catch {}
  }

  stop(options?: { graceMs?: number }): Promise<void> {
    this.#stopping ??= this.#stop(options?.graceMs ?? this.#graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopCtl.abort();
    if (this.#signal && this.#onSignal) this.#signal.removeEventListener('abort', this.#onSignal);
    // Items received but not started go back at once; an open pull ends within pollMs (what it
    // still brings is handed back as it comes).
    for (const d of this.#queued.splice(0)) {
      d.nak();
      this.#handedBack++;
    }
    const drained = new Promise<void>((resolve) => {
      this.#onDrained = resolve;
    });
    this.#checkDrained();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => {
      timer = setTimeout(r, graceMs);
    });
    await Promise.race([drained, grace]);
    clearTimeout(timer);
    for (const [msg, r] of this.#running) {
      if (r.handedBack) continue;
      r.handBack();
      r.ac.abort(new Error('sluice/cluster: the worker is stopping'));
      msg.nak();
      this.#handedBack++;
      this.#running.delete(msg);
    }
    await drained;
    this.#accrueIdle();
    this.#idleMark = undefined;
    this.#puller.close();
    clearInterval(this.#statsTimer);
    this.#consumer.close();
    this.#publishStats(true);
    if (!this.#ctx.nc.isClosed()) await this.#ctx.nc.flush().catch(() => {});
    this.#ctx.forget(this);
    this.#resolveDone();
  }

  /** The same as `stop()` with the configured grace, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
