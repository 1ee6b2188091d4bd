/**
 * A stage's output: an unbuffered hand-off between the workers (and a pipe's feeder) and whoever
 * reads `out()`. A result waits in the outbox, still holding its worker and its permit, until a
 * reader takes it; that is the backpressure that makes undrained output stall the stage.
 *
 * `next()` is hand-written (no async generator): when a result is ready it returns an already
 * resolved promise, which costs about a quarter of a generator's step. When nothing is ready and
 * the stage's one worker is in a fast async call, `next()` returns the promise that call's own
 * settle handler makes anyway (see `sole`), instead of a new pending promise: the reader is then
 * woken by the worker's handler itself, one promise and its resolve functions fewer per item.
 * Internal to flow.
 */
import { Deque } from '../deque.js';
import type { Result } from '../result.js';

/** Something holding one result for the reader: a worker or a forwarded upstream error. */
export interface Holder<R> {
  result: Result<R> | undefined;
  /** The reader took the result; `direct` when it was waiting already (no time blocked). */
  taken(direct: boolean): void;
}

type Resolve<R> = (r: IteratorResult<Result<R>>) => void;

/**
 * A holder whose async call is in flight: `settled` is the promise the call's settle handler
 * returns, and that handler returns what `offer` returns for this holder — so a reader may await
 * `settled` instead of a promise of its own.
 */
export interface Bindable<R> extends Holder<R> {
  readonly settled: Promise<IteratorResult<Result<R>> | undefined> | undefined;
}

/** The end, a fresh object each time (a reader may keep or change what it was given). */
function done<R>(): IteratorResult<Result<R>> {
  return { value: undefined, done: true };
}

export class Output<R> implements AsyncIterableIterator<Result<R>> {
  private readonly outbox = new Deque<Holder<R>>();
  /** Forwarded upstream errors waiting: they go out before worker results (a pinned order). */
  private readonly forwards = new Deque<Holder<R>>();
  private readonly pending = new Deque<Resolve<R>>();
  private closed = false;
  /** The executor of every waiting read's promise, made once (not a closure per read). */
  private readonly wait = (resolve: Resolve<R>): void => {
    this.calm = false;
    if (this.first === undefined) this.first = resolve;
    else this.pending.push(resolve);
  };
  /** The oldest waiting read (the rest wait in `pending`). */
  private first: Resolve<R> | undefined = undefined;

  private takeReader(): Resolve<R> | undefined {
    const r = this.first;
    if (r !== undefined) this.first = this.pending.shift();
    return r;
  }
  /** The reader gave up (`return()` or discardAndWait): results are taken and dropped. */
  private discarding = false;
  /**
   * A summary of five fields for the per-item path: when true, no read waits (`first` is
   * undefined), nothing waits in `outbox` or `forwards`, and the output is neither closed nor
   * discarding. Every change that breaks one of these sets it false on the spot; it is set true
   * only where all five were just checked (`next`'s slow path), so it may be false while they all
   * hold (then `next` takes the slow path once), never true while one fails.
   */
  private calm = true;
  /**
   * The holder whose settle handler a reader awaits (the first reader in line): whatever it
   * offers next goes to that reader, through the handler's return value.
   */
  private bound: Holder<R> | undefined = undefined;

  /**
   * The holder a waiting reader may await directly while its `settled` is set. The stage sets it
   * only while it has a single worker, and that worker sets `settled` only while its calls are
   * fast, so a bound reader never waits long on a call while something else could be handed to
   * it (see `offer`).
   */
  sole: Bindable<R> | undefined = undefined;

  /** Results waiting for a reader. */
  get waiting(): number {
    return this.outbox.length + this.forwards.length;
  }

  /**
   * Offers a result. A waiting reader takes it at once; otherwise it waits in line — worker
   * results in the order they were ready, forwarded errors (`priority`) ahead of them. Returns
   * what the bound reader gets when `h` is the holder it awaits (the caller's settle handler
   * returns it), else undefined.
   */
  offer(h: Holder<R>, priority = false): IteratorResult<Result<R>> | undefined {
    if (this.bound === h) return this.settleBound(h);
    if (this.discarding) {
      h.result = undefined;
      h.taken(true);
      return undefined;
    }
    // A bound reader is first in line, and only its holder's handler can wake it: anything else
    // waits in the queues, and the bound reader takes the oldest of it when its holder settles.
    const resolve = this.bound === undefined ? this.takeReader() : undefined;
    if (resolve !== undefined) {
      const value = h.result as Result<R>;
      h.result = undefined;
      resolve({ value, done: false });
      h.taken(true);
      return undefined;
    }
    this.calm = false;
    if (priority) this.forwards.push(h);
    else this.outbox.push(h);
    return undefined;
  }

  /**
   * A worker's ok result (`offer` of `h` holding `result`), made without storing the result in
   * the holder when the bound reader takes it at once: the common case of a one-worker stage,
   * one store and one write barrier fewer per item.
   */
  offerResult(h: Holder<R>, result: Result<R>): IteratorResult<Result<R>> | undefined {
    // `calm` asks more than this needs (no other read waiting, not closed): when it is false,
    // `offer` does the same by the longer way.
    if (this.bound === h && this.calm) {
      this.bound = undefined;
      h.taken(true);
      return { value: result, done: false };
    }
    h.result = result;
    return this.offer(h);
  }

  /**
   * The bound holder settled: its reader gets the oldest result that was ready before it (a
   * forwarded error first, as `next()` would have), else this one; the other is offered as usual.
   * The common case (nothing else waiting) stays small enough to be inlined into the handler.
   */
  private settleBound(h: Holder<R>): IteratorResult<Result<R>> {
    this.bound = undefined;
    if (this.discarding || this.outbox.length !== 0 || this.forwards.length !== 0) {
      return this.settleBoundBehind(h);
    }
    const value = h.result as Result<R>;
    h.result = undefined;
    h.taken(true);
    return { value, done: false };
  }

  private settleBoundBehind(h: Holder<R>): IteratorResult<Result<R>> {
    if (this.discarding) {
      h.result = undefined;
      h.taken(true);
      return done();
    }
    const first = (
      this.forwards.length > 0 ? this.forwards.shift() : this.outbox.shift()
    ) as Holder<R>;
    const value = first.result as Result<R>;
    first.result = undefined;
    this.offer(h);
    first.taken(false);
    return { value, done: false };
  }

  next(): Promise<IteratorResult<Result<R>>> {
    // The per-item case: nothing waits, and the one worker's fast call is in flight.
    if (this.bound === undefined && this.calm) {
      const b = this.sole;
      if (b !== undefined && b.settled !== undefined) {
        this.bound = b;
        return b.settled as Promise<IteratorResult<Result<R>>>;
      }
    }
    return this.nextSlow();
  }

  private nextSlow(): Promise<IteratorResult<Result<R>>> {
    if (this.bound === undefined) {
      const h = this.forwards.length > 0 ? this.forwards.shift() : this.outbox.shift();
      if (h !== undefined) {
        const value = h.result as Result<R>;
        h.result = undefined;
        h.taken(false);
        return Promise.resolve({ value, done: false });
      }
      if (this.closed || this.discarding) return Promise.resolve(done<R>());
      if (this.first === undefined) {
        // All five of `calm`'s conditions hold here.
        this.calm = true;
        const b = this.sole;
        if (b !== undefined && b.settled !== undefined) {
          this.bound = b;
          return b.settled as Promise<IteratorResult<Result<R>>>;
        }
      }
    } else if (this.discarding) {
      return Promise.resolve(done<R>());
    }
    return new Promise<IteratorResult<Result<R>>>(this.wait);
  }

  /**
   * Breaking out of `for await` lands here: the reader abandons the output, so every result from
   * now on is taken and dropped (still counted in stats) and the stage can finish. Other readers
   * waiting in `next()` see the end.
   */
  return(): Promise<IteratorResult<Result<R>>> {
    this.discard();
    return Promise.resolve(done<R>());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Switches to discard mode and drops what waits now. */
  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
    this.calm = false;
    for (const q of [this.forwards, this.outbox]) {
      while (q.length > 0) {
        const h = q.shift() as Holder<R>;
        h.result = undefined;
        h.taken(true);
      }
    }
    this.endPending();
  }

  /** Removes the forwarded errors still waiting (dropped on cancel). */
  takeForwards(): Holder<R>[] {
    const out: Holder<R>[] = [];
    while (this.forwards.length > 0) out.push(this.forwards.shift() as Holder<R>);
    return out;
  }

  /** No more results: waiting and later reads see the end. */
  close(): void {
    this.closed = true;
    this.calm = false;
    this.endPending();
  }

  private endPending(): void {
    for (let r = this.takeReader(); r !== undefined; r = this.takeReader()) {
      r(done());
    }
  }
}
