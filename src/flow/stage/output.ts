/**
 * A stage's output: an unbuffered hand-off between the workers (and a pipe's feeder) and whoever
 * reads `out()`. A result waits in the outbox, still holding its worker and its permit, until a
 * reader takes it; that is the backpressure that makes undrained output stall the stage.
 *
 * `next()` is hand-written (no async generator): when a result is ready it returns an already
 * resolved promise, which costs about a quarter of a generator's step. Internal to flow.
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

export class Output<R> implements AsyncIterableIterator<Result<R>> {
  private readonly outbox = new Deque<Holder<R>>();
  /** Forwarded upstream errors waiting: they go out before worker results (a pinned order). */
  private readonly forwards = new Deque<Holder<R>>();
  private readonly pending = new Deque<Resolve<R>>();
  private closed = false;
  /** The executor of every waiting read's promise, made once (not a closure per read). */
  private readonly wait = (resolve: Resolve<R>): void => {
    this.pending.push(resolve);
  };
  /** The reader gave up (`return()` or discardAndWait): results are taken and dropped. */
  private discarding = false;

  /** Results waiting for a reader. */
  get waiting(): number {
    return this.outbox.length + this.forwards.length;
  }

  /**
   * Offers a result. A waiting reader takes it at once; otherwise it waits in line — worker
   * results in the order they were ready, forwarded errors (`priority`) ahead of them.
   */
  offer(h: Holder<R>, priority = false): void {
    if (this.discarding) {
      h.result = undefined;
      h.taken(true);
      return;
    }
    const resolve = this.pending.shift();
    if (resolve !== undefined) {
      const value = h.result as Result<R>;
      h.result = undefined;
      resolve({ value, done: false });
      h.taken(true);
      return;
    }
    if (priority) this.forwards.push(h);
    else this.outbox.push(h);
  }

  next(): Promise<IteratorResult<Result<R>>> {
    const h = this.forwards.length > 0 ? this.forwards.shift() : this.outbox.shift();
    if (h !== undefined) {
      const value = h.result as Result<R>;
      h.result = undefined;
      h.taken(false);
      return Promise.resolve({ value, done: false });
    }
    if (this.closed || this.discarding) return Promise.resolve({ value: undefined, done: true });
    return new Promise<IteratorResult<Result<R>>>(this.wait);
  }

  /**
   * Breaking out of `for await` lands here: the reader abandons the output, so every result from
   * now on is taken and dropped (still counted in stats) and the stage can finish. Other readers
   * waiting in `next()` see the end.
   */
  return(): Promise<IteratorResult<Result<R>>> {
    this.discard();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Switches to discard mode and drops what waits now. */
  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
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
    this.endPending();
  }

  private endPending(): void {
    while (this.pending.length > 0) {
      (this.pending.shift() as Resolve<R>)({ value: undefined, done: true });
    }
  }
}
