/**
 * `tee`: broadcasts each item of one source to n branches in lockstep (toc's Tee).
 */

import type { Result } from '../result.js';
import { iteratorOf, type Source } from '../stage/feeder.js';
import { checkInt, checkSignal, invalid } from '../validate.js';
import { Channel, type OperatorOptions, onAbort } from './channel.js';

/**
 * A tee's counters. After `wait()`: received = fullyDelivered + partiallyDelivered +
 * undelivered, and partiallyDelivered <= 1 (a cancel interrupts at most one item; after it the
 * tee only discards).
 */
export interface TeeStats {
  /** Items read from the source. */
  received: number;
  /** Items sent to every branch. */
  fullyDelivered: number;
  /** Items sent to some branches (at least one, not all) before a cancel. */
  partiallyDelivered: number;
  /** Items sent to no branch (cancel came first, or discard mode). */
  undelivered: number;
  /** Per branch: items taken by that branch. */
  branchDelivered: number[];
  /**
   * Per branch: time spent waiting for that branch to take an item (ms). Branches are served in
   * index order, so a slow branch 0 shows here while the branches after it wait unmeasured.
   */
  branchBlockedTimeMs: number[];
}

/**
 * Reads `source` and sends every item to each of `n` branches, branch 0 first, then 1, and so
 * on, moving to the next item only when every branch took this one: the slowest branch sets the
 * pace, and an undrained branch stalls them all (unless the signal aborts). Wire up every branch
 * before the source starts producing. Payloads are not copied: branches share each value, so
 * treat them as read-only. A branch whose reader breaks out of `for await` is abandoned: it takes
 * and drops the rest, so the others go on.
 *
 * Source ownership: the source is read to its end. On abort, a send in progress is dropped, the
 * tee reads on and discards, and `wait()` rejects with the reason if anything was dropped.
 *
 * Throws an `InvalidOptionError` if `n` is not an integer >= 1.
 *
 * @example
 * ```ts
 * const t = tee(fromIterable([1, 2]), 2);
 * const read = async (it: AsyncIterable<unknown>) => { const all = []; for await (const r of it) all.push(r); return all; };
 * const [a, b] = await Promise.all([read(t.branch(0)), read(t.branch(1))]);
 * // a and b both hold ok(1), ok(2)
 * await t.wait();
 * ```
 */
export function tee<T>(source: Source<T>, n: number, options?: OperatorOptions): Tee<T> {
  checkInt('n', n, 1);
  const signal = checkSignal('signal', options?.signal);
  return new Tee<T>(iteratorOf(source), n, signal);
}

/** A running tee (made by `tee`). */
export class Tee<T> {
  readonly #branches: Channel<Result<T>>[];
  readonly #signal: AbortSignal | undefined;
  readonly #done: Promise<void>;
  #cancelled: { reason: unknown } | undefined;
  #received = 0;
  #full = 0;
  #partial = 0;
  #undelivered = 0;
  readonly #delivered: number[];

  /** @internal Use `tee`. */
  constructor(
    it: AsyncIterator<Result<T>> | Iterator<Result<T>>,
    n: number,
    signal: AbortSignal | undefined,
  ) {
    this.#branches = Array.from({ length: n }, () => new Channel<Result<T>>());
    this.#delivered = new Array<number>(n).fill(0);
    this.#signal = signal;
    const remove = onAbort(signal, () => {
      for (const b of this.#branches) b.cancelSends();
    });
    this.#done = this.#run(it).finally(() => {
      remove();
      for (const b of this.#branches) b.close();
    });
  }

  /** Branch `i`'s items (0 <= i < n): the same iterator every call. Must be drained. */
  branch(i: number): AsyncIterableIterator<Result<T>> {
    const b = this.#branches[i];
    if (!Number.isInteger(i) || b === undefined) {
      throw invalid('branch index', `must be an integer in [0, ${this.#branches.length})`, i);
    }
    return b;
  }

  async #run(it: AsyncIterator<Result<T>> | Iterator<Result<T>>): Promise<void> {
    let discarding = false;
    for (;;) {
      let step: IteratorResult<Result<T>>;
      try {
        step = await it.next();
      } catch (error) {
        step = { value: { ok: false, error }, done: false };
        await this.#deliver(step.value, discarding);
        return;
      }
      if (step.done) return;
      discarding = await this.#deliver(step.value, discarding);
    }
  }

  /** Sends one item to every branch in order; returns whether the tee is now discarding. */
  async #deliver(r: Result<T>, discarding: boolean): Promise<boolean> {
    this.#received++;
    if (discarding || this.#signal?.aborted) {
      this.#undelivered++;
      this.#noteCancel();
      return true;
    }
    let sent = 0;
    for (let i = 0; i < this.#branches.length; i++) {
      if (this.#signal?.aborted) break;
      const s = (this.#branches[i] as Channel<Result<T>>).send(r);
      if (s !== true && !(await s)) break;
      this.#delivered[i]!++;
      sent++;
    }
    if (sent === this.#branches.length) {
      this.#full++;
      return false;
    }
    if (sent === 0) this.#undelivered++;
    else this.#partial++;
    this.#noteCancel();
    return true;
  }

  #noteCancel(): void {
    if (this.#cancelled === undefined) this.#cancelled = { reason: this.#signal?.reason };
  }

  /** Settles when the source was read to its end; rejects with the abort reason if cancel dropped items. */
  wait(): Promise<void> {
    return this.#done.then(() => {
      if (this.#cancelled !== undefined) throw this.#cancelled.reason;
    });
  }

  /** A snapshot of the counters. */
  stats(): TeeStats {
    return {
      received: this.#received,
      fullyDelivered: this.#full,
      partiallyDelivered: this.#partial,
      undelivered: this.#undelivered,
      branchDelivered: [...this.#delivered],
      branchBlockedTimeMs: this.#branches.map((b) => b.blockedMs),
    };
  }
}
