/**
 * `merge`: fan-in of several sources into one output (toc's Merge).
 */

import { InvalidOptionError } from '../../proc/index.js';
import type { Result } from '../result.js';
import { iteratorOf, type Source } from '../stage/feeder.js';
import { checkSignal } from '../validate.js';
import { Channel, type OperatorOptions, onAbort } from './channel.js';

/**
 * A merge's counters. Each aggregate is the sum of its per-source array. After `wait()`:
 * received = forwarded + dropped, and the same per source.
 */
export interface MergeStats {
  /** Items read from every source. */
  received: number;
  /** Items sent on. */
  forwarded: number;
  /** Items read and dropped after a cancel. */
  dropped: number;
  /** Index i is `sources[i]` as passed to `merge`. */
  sourceReceived: number[];
  /** Per source: items sent on. */
  sourceForwarded: number[];
  /** Per source: items dropped. */
  sourceDropped: number[];
}

/**
 * Reads every source at once (one reading loop each) and forwards every item to one output.
 * Order: each source's own order is kept; across sources, items go out in the order they became
 * ready (the hand-off serves waiting senders first come, first served) — no fairness or
 * provenance beyond that. Merge is not the inverse of tee.
 *
 * Source ownership: each source is read to its end; `wait()` settles only when all have ended.
 * On abort, nothing more is forwarded — not even an item already waiting to be taken (the
 * hand-off drops it) — each loop reads on and discards; `wait()` rejects with the reason if a
 * loop dropped anything, and resolves when the cancel came too late to change anything. Pass
 * each source once: the same iterator twice makes two loops race on it.
 *
 * Call as `merge(a, b, c)` or `merge(a, b, c, { signal })`. Throws an `InvalidOptionError` with no sources
 * or for a source that is not iterable.
 *
 * @example
 * ```ts
 * const m = merge(fromIterable([1, 2]), fromIterable([3]));
 * for await (const r of m) console.log(r); // every item of both, each source in order
 * await m.wait();
 * ```
 */
export function merge<T>(...sources: Source<T>[]): Merge<T>;
export function merge<T>(...args: [...Source<T>[], OperatorOptions]): Merge<T>;
export function merge<T>(...args: (Source<T> | OperatorOptions)[]): Merge<T> {
  let options: OperatorOptions | undefined;
  const last = args[args.length - 1];
  if (last !== undefined && isOptions(last)) {
    options = last;
    args = args.slice(0, -1);
  }
  if (args.length === 0) throw new InvalidOptionError('sources', 'merge needs at least one source');
  const signal = checkSignal('signal', options?.signal);
  const its = args.map((s) => iteratorOf(s as Source<T>));
  return new Merge<T>(its, signal);
}

function isOptions(x: unknown): x is OperatorOptions {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function' &&
    typeof (x as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  );
}

/** A running merge (made by `merge`). */
export class Merge<T> implements AsyncIterable<Result<T>> {
  readonly #out = new Channel<Result<T>>();
  readonly #signal: AbortSignal | undefined;
  readonly #done: Promise<void>;
  #cancelled: { reason: unknown } | undefined;
  readonly #received: number[];
  readonly #forwarded: number[];
  readonly #dropped: number[];

  /** @internal Use `merge`. */
  constructor(
    its: (AsyncIterator<Result<T>> | Iterator<Result<T>>)[],
    signal: AbortSignal | undefined,
  ) {
    const n = its.length;
    this.#received = new Array<number>(n).fill(0);
    this.#forwarded = new Array<number>(n).fill(0);
    this.#dropped = new Array<number>(n).fill(0);
    this.#signal = signal;
    const remove = onAbort(signal, () => this.#out.cancelSends());
    this.#done = Promise.all(its.map((it, i) => this.#run(it, i))).then(() => {
      remove();
      this.#out.close();
    });
  }

  async #run(it: AsyncIterator<Result<T>> | Iterator<Result<T>>, i: number): Promise<void> {
    for (;;) {
      let r: Result<T>;
      let last = false;
      try {
        const step = await it.next();
        if (step.done) return;
        r = step.value;
      } catch (error) {
        r = { ok: false, error };
        last = true;
      }
      this.#received[i]!++;
      if (this.#signal?.aborted) {
        this.#drop(i);
      } else {
        const s = this.#out.send(r);
        if (s === true || (await s)) this.#forwarded[i]!++;
        else this.#drop(i);
      }
      if (last) return;
    }
  }

  #drop(i: number): void {
    this.#dropped[i]!++;
    if (this.#cancelled === undefined) this.#cancelled = { reason: this.#signal?.reason };
  }

  /** Every item of every source, interleaved; ends after all sources ended. Must be drained. */
  out(): AsyncIterableIterator<Result<T>> {
    return this.#out;
  }
  /** The same iterator as `out()`: the object itself can be drained with `for await`. */
  [Symbol.asyncIterator](): AsyncIterator<Result<T>> {
    return this.#out;
  }

  /** Settles when every source ended (out() has ended by then); rejects with the abort reason if cancel dropped items. */
  wait(): Promise<void> {
    return this.#done.then(() => {
      if (this.#cancelled !== undefined) throw this.#cancelled.reason;
    });
  }

  /** A snapshot of the counters. */
  stats(): MergeStats {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    return {
      received: sum(this.#received),
      forwarded: sum(this.#forwarded),
      dropped: sum(this.#dropped),
      sourceReceived: [...this.#received],
      sourceForwarded: [...this.#forwarded],
      sourceDropped: [...this.#dropped],
    };
  }
}
