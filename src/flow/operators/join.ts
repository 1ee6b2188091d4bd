/**
 * `join`: strict recombination of two branches, one item from each (toc's Join).
 */

import { toError } from '../../proc/index.js';
import { MissingResultError } from '../errors.js';
import { ok, type Result } from '../result.js';
import { iteratorOf, type Source } from '../stage/feeder.js';
import { checkFunction, checkSignal } from '../validate.js';
import { Channel, type OperatorOptions, onAbort } from './channel.js';

/**
 * A join's counters. After `wait()`: receivedA = combined + discardedA + extraA (and the same for
 * B), and combined + errors <= 1.
 */
export interface JoinStats {
  /** Items read from source A. */
  receivedA: number;
  /** Items read from source B. */
  receivedB: number;
  /** 1 when combine produced the output. */
  combined: number;
  /** 1 when an error result was delivered. */
  errors: number;
  /** A's first item when it was not combined (an error, the other side missing, a cancel, a throw). */
  discardedA: number;
  /** B's first item, when it could not be combined. */
  discardedB: number;
  /** A's items after its first, read and dropped (a contract violation, counted). */
  extraA: number;
  /** Items of B after the first, drained. */
  extraB: number;
  /** Time the output waited for a reader (ms). */
  outputBlockedTimeMs: number;
}

type First<X> = { r: Result<X>; ended?: boolean } | undefined;

/**
 * Takes the first item of each source and emits at most one result, then reads both sources to
 * their ends (source ownership; later items are counted as extras). The error matrix:
 *
 * - ok(a), ok(b) → ok(combine(a, b))
 * - ok(a), err(e) → err(e); err(e), ok(b) → err(e)
 * - err(ea), err(eb) → err(AggregateError([ea, eb]))
 * - ok(a), missing → err(MissingResultError B); missing, ok(b) → err(MissingResultError A)
 * - err(e), missing → err(AggregateError([e, MissingResultError B]));
 *   missing, err(e) → err(AggregateError([MissingResultError A, e]))
 * - missing, missing → no output
 *
 * `combine` must be pure and synchronous; if it throws, the output is that error (a non-Error
 * wrapped in PanicError) and both firsts count as discarded. Cancel: if the signal aborted by the
 * time both firsts are in, nothing is emitted and `wait()` rejects with the reason; an output
 * waiting to be taken when the signal aborts is dropped the same way. Both sources are still read
 * to their ends, so `wait()` needs them to end.
 *
 * @example
 * ```ts
 * const j = join(fromIterable([2]), fromIterable([3]), (a, b) => a * b);
 * for await (const r of j) console.log(r); // { ok: true, value: 6 }
 * await j.wait();
 * ```
 */
export function join<A, B, R>(
  a: Source<A>,
  b: Source<B>,
  combine: (a: A, b: B) => R,
  options?: OperatorOptions,
): Join<R> {
  checkFunction('combine', combine);
  const signal = checkSignal('signal', options?.signal);
  return new Join<R>(
    iteratorOf(a),
    iteratorOf(b),
    combine as (a: unknown, b: unknown) => R,
    signal,
  );
}

/** A running join (made by `join`). */
export class Join<R> implements AsyncIterable<Result<R>> {
  readonly #out = new Channel<Result<R>>();
  readonly #signal: AbortSignal | undefined;
  readonly #done: Promise<void>;
  #cancelled: { reason: unknown } | undefined;
  readonly #s = {
    receivedA: 0,
    receivedB: 0,
    combined: 0,
    errors: 0,
    discardedA: 0,
    discardedB: 0,
    extraA: 0,
    extraB: 0,
  };

  /** @internal Use `join`. */
  constructor(
    a: AsyncIterator<Result<unknown>> | Iterator<Result<unknown>>,
    b: AsyncIterator<Result<unknown>> | Iterator<Result<unknown>>,
    combine: (a: unknown, b: unknown) => R,
    signal: AbortSignal | undefined,
  ) {
    this.#signal = signal;
    const remove = onAbort(signal, () => this.#out.cancelSends());
    this.#done = this.#run(a, b, combine).finally(() => {
      remove();
      this.#out.close();
    });
  }

  async #run(
    a: AsyncIterator<Result<unknown>> | Iterator<Result<unknown>>,
    b: AsyncIterator<Result<unknown>> | Iterator<Result<unknown>>,
    combine: (a: unknown, b: unknown) => R,
  ): Promise<void> {
    const s = this.#s;
    const [fa, fb] = await Promise.all([first(a), first(b)]);
    if (fa !== undefined) s.receivedA++;
    if (fb !== undefined) s.receivedB++;
    const decided = this.#decide(fa, fb, combine);
    if (decided !== undefined) {
      if (this.#signal?.aborted) {
        this.#undo(decided);
      } else {
        const sent = this.#out.send(decided.r);
        if (!(sent === true || (await sent))) this.#undo(decided);
      }
    }
    await Promise.all([
      fa?.ended
        ? undefined
        : drain(a, () => {
            s.receivedA++;
            s.extraA++;
          }),
      fb?.ended
        ? undefined
        : drain(b, () => {
            s.receivedB++;
            s.extraB++;
          }),
    ]);
  }

  /** The output for the two firsts (and the counters it implies), or undefined for none. */
  #decide(
    fa: First<unknown>,
    fb: First<unknown>,
    combine: (a: unknown, b: unknown) => R,
  ): { r: Result<R>; combined: boolean } | undefined {
    const s = this.#s;
    if (fa === undefined && fb === undefined) return undefined;
    if (fa !== undefined && fb !== undefined && fa.r.ok && fb.r.ok) {
      try {
        const v = combine(fa.r.value, fb.r.value);
        s.combined++;
        return { r: ok(v), combined: true };
      } catch (thrown) {
        s.discardedA++;
        s.discardedB++;
        s.errors++;
        return { r: { ok: false, error: toError(thrown, 'join combine').error }, combined: false };
      }
    }
    if (fa !== undefined) s.discardedA++;
    if (fb !== undefined) s.discardedB++;
    s.errors++;
    const ea = fa === undefined ? new MissingResultError('A') : fa.r.ok ? undefined : fa.r.error;
    const eb = fb === undefined ? new MissingResultError('B') : fb.r.ok ? undefined : fb.r.error;
    let error: unknown;
    if (ea !== undefined && eb !== undefined) {
      error = new AggregateError([ea, eb], 'sluice/flow: join: both sides failed');
    } else {
      error = ea !== undefined ? ea : eb;
    }
    return { r: { ok: false, error }, combined: false };
  }

  /** The output was not delivered (cancel): move its counts to discarded. */
  #undo(d: { r: Result<R>; combined: boolean }): void {
    const s = this.#s;
    if (d.combined) {
      s.combined--;
      s.discardedA++;
      s.discardedB++;
    } else {
      s.errors--;
    }
    if (this.#cancelled === undefined) this.#cancelled = { reason: this.#signal?.reason };
  }

  /** At most one result; ends after both sources ended. Must be drained. */
  out(): AsyncIterableIterator<Result<R>> {
    return this.#out;
  }
  /** The same iterator as `out()`: the object itself can be drained with `for await`. */
  [Symbol.asyncIterator](): AsyncIterator<Result<R>> {
    return this.#out;
  }

  /** Settles when both sources ended; rejects with the abort reason if the cancel dropped the output. */
  wait(): Promise<void> {
    return this.#done.then(() => {
      if (this.#cancelled !== undefined) throw this.#cancelled.reason;
    });
  }

  /** A snapshot of the counters. */
  stats(): JoinStats {
    return { ...this.#s, outputBlockedTimeMs: this.#out.blockedMs };
  }
}

/** A source's first item (a throw counts as an error item and ends it), or undefined if empty. */
async function first<X>(it: AsyncIterator<Result<X>> | Iterator<Result<X>>): Promise<First<X>> {
  try {
    const step = await it.next();
    return step.done ? undefined : { r: step.value };
  } catch (error) {
    return { r: { ok: false, error }, ended: true };
  }
}

async function drain<X>(
  it: AsyncIterator<Result<X>> | Iterator<Result<X>>,
  count: () => void,
): Promise<void> {
  for (;;) {
    try {
      const step = await it.next();
      if (step.done) return;
    } catch {
      return;
    }
    count();
  }
}
