/**
 * `start` and `startFrom`: a constrained stage — a bounded input queue, `workers` concurrent calls of
 * `fn`, the rope (`maxWIP`, `maxWIPWeight`, pause), an unbuffered output, and stats.
 *
 * Lifecycle (toc's): submit items → `closeInput()` → drain `out()` to its end → `wait()` (or
 * `cause()`); `discardAndWait()` / `discardAndCause()` do the last two for you. Every submit that
 * resolves yields exactly one result on `out()`; a submit that rejects yields none. With one
 * worker, results keep submit order.
 */
import { StageCore } from './core.js';
import { feed, type Source, sourceIterator } from './feeder.js';

export type { Source };

import type { Result } from '../result.js';
import type { StageLike } from '../stage-like.js';
import type { Stats } from '../stats.js';
import { checkFunction } from '../validate.js';
import { resolveOptions, type StageFn, type StageOptions, type SubmitOptions } from './options.js';

/**
 * A running stage. Made by `start` or `pipe`. Results come out of `out()` (or the stage itself,
 * which is async-iterable), and must be drained: a result not yet taken keeps its worker and its
 * permit, so an undrained stage stalls and `wait()` never settles.
 */
export class Stage<T, R> implements StageLike<T, R>, AsyncIterable<Result<R>>, AsyncDisposable {
  readonly #core: StageCore<T, R>;
  /** The caller has asked for the outcome (wait, cause or a discard*): dispose need not report it. */
  #observed = false;

  /** @internal Use `start` or `startFrom`. */
  constructor(core: StageCore<T, R>) {
    this.#core = core;
  }

  /**
   * Offers `item`. Resolves once it is admitted (a permit is held and it is queued or in a
   * worker): then exactly one result for it will appear on `out()`. Waits while the rope is full
   * or admission is paused, in FIFO order with other waiting submits.
   *
   * Rejects with: `ClosedError` after `closeInput()`, fail-fast or the stage's abort — at once when
   * already closed, and for submits still waiting at that moment (a waiting submit never slips in
   * after close); `options.signal`'s reason when that signal aborts before admission (the signal
   * bounds only the wait: an admitted item is processed whatever it does later);
   * `WeightExceedsLimitError` when the item's weight is above `maxWIPWeight`; an `InvalidOptionError` when
   * `weight(item)` is not a finite number >= 0. Checked in that order.
   */
  submit(item: T, options?: SubmitOptions): Promise<void> {
    return this.#core.submit(item, options === undefined ? undefined : options.signal);
  }

  /**
   * No more submits. Idempotent. Waiting submits are rejected with `ClosedError`; queued items are
   * still processed, then the workers stop and `out()` ends. Called by the stage itself on
   * fail-fast and on abort. Whoever knows submitting is over owns this call.
   */
  closeInput(): void {
    this.#core.closeInput();
  }

  /**
   * The results: one per admitted item (and, for `pipe`, each forwarded upstream error), ending
   * after the last. The same iterator every time — several readers share it like a channel.
   * Breaking out of `for await` (which calls `return()`) abandons it: every later result is
   * taken and dropped so the stage can finish; stats and `wait()` still see them.
   *
   * After an abort or fail-fast, `out()` may still yield results of work already in `fn` (ok or
   * not) and a canceled result (error = the stage's cause) for each queued item.
   */
  out(): AsyncIterableIterator<Result<R>> {
    return this.#core.output;
  }

  /** The same iterator as `out()`: the object itself can be drained with `for await`. */
  [Symbol.asyncIterator](): AsyncIterator<Result<R>> {
    return this.#core.output;
  }

  /**
   * Settles when the stage has finished: input closed, every result taken, the workers stopped
   * (and, for `pipe`, the source read to its end). Does not close input itself. Rejects with the
   * first error of `fn` that made the stage fail fast; resolves otherwise — also under
   * `continueOnError` (check the results) and when the stage's signal aborted (you know already).
   */
  wait(): Promise<void> {
    this.#observed = true;
    const core = this.#core;
    return core.done.then(() => {
      const f = core.failFastError;
      if (f !== undefined) throw f.error;
    });
  }

  /**
   * Resolves, when the stage has finished, with its terminal cause (never rejects): `undefined`
   * for a clean end, the fail-fast error, or the stage signal's reason when it was aborted by
   * the time the stage finished. Latched once; later aborts do not change it. A fail-fast error
   * that happened before the signal aborted wins over it.
   */
  cause(): Promise<unknown> {
    this.#observed = true;
    const core = this.#core;
    return core.done.then(() => core.causeValue);
  }

  /** Drops every result (now and later) and then behaves as `wait()`. Owns `out()` exclusively. */
  discardAndWait(): Promise<void> {
    this.#observed = true;
    this.#core.output.discard();
    return this.wait();
  }

  /** Drops every result (now and later) and then behaves as `cause()`. Owns `out()` exclusively. */
  discardAndCause(): Promise<unknown> {
    this.#observed = true;
    this.#core.output.discard();
    return this.cause();
  }

  /**
   * `await using stage = start(fn)`: at the end of the scope, closes the input, drops every
   * result not yet taken and waits for the stage to finish (`closeInput()` then
   * `discardAndWait()`). Work already admitted still runs to its end: to cancel it, abort the
   * stage's `signal`. A `startFrom` stage also reads its source to the end first (source
   * ownership), so its disposal waits for the source to end. Rejects with the fail-fast error, like `wait()`, unless the caller already
   * asked for the outcome with `wait()`, `cause()` or a `discard*` call (an error is reported
   * once, never lost).
   *
   * @example
   * ```ts
   * {
   *   await using stage = start(async (n: number) => n * 2, { workers: 4 });
   *   await stage.submit(1);
   *   for await (const r of stage.out()) { console.log(r); break; } // { ok: true, value: 2 }
   * } // closed and drained here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const reported = this.#observed;
    this.#core.closeInput();
    this.#core.output.discard();
    const core = this.#core;
    await core.done;
    const f = core.failFastError;
    if (f !== undefined && !reported) throw f.error;
  }

  /**
   * A snapshot of the counters and gauges. Node runs the stage on one thread, so unlike toc's a
   * snapshot is consistent; the invariants (docs/flow.md) hold once `wait()` has settled.
   */
  stats(): Stats {
    return this.#core.stats();
  }

  /**
   * Sets how many calls of `fn` may run at once (an integer >= 1; returns it). New workers start
   * at once. Surplus workers retire newest first: an idle one leaves at once, a busy one when its
   * result is taken (it never starts another item), so `activeWorkers` may lag. Re-clamps
   * `maxWIP` to the new ceiling `capacity + n`. Throws `StoppingError` once the stage was aborted
   * or failed fast, or has finished; allowed while draining after `closeInput()`.
   */
  setWorkers(n: number): number {
    return this.#core.setWorkers(n);
  }

  /**
   * Sets the rope: admitted items at most `n`, clamped to [1, capacity + workers]; returns the
   * applied value. Raising it admits waiters at once; lowering it revokes no permit — admitted
   * items finish and `admitted` may exceed the limit until they do.
   */
  setMaxWIP(n: number): number {
    return this.#core.setMaxWIP(n);
  }

  /**
   * Sets the weight limit; 0 turns it off, negatives clamp to 0; returns the applied value.
   * Waiting submits heavier than a new positive limit are rejected with `WeightExceedsLimitError`.
   */
  setMaxWIPWeight(n: number): number {
    return this.#core.setMaxWIPWeight(n);
  }

  /** Holds every new admission (waiting submits wait on; none is rejected). Idempotent. */
  pauseAdmission(): void {
    this.#core.pauseAdmission();
  }

  /** Lets admission go on; waiting submits are admitted in FIFO order. Idempotent. */
  resumeAdmission(): void {
    this.#core.resumeAdmission();
  }

  /** The signal `fn` receives: aborted on fail-fast (reason: the error) or by `options.signal`. */
  get signal(): AbortSignal {
    return this.#core.signal;
  }
}

/**
 * Starts a stage that runs `fn` on each submitted item. Validates `options` first (an
 * `InvalidOptionError` naming the bad one; nothing starts). When `options.signal` aborts, the stage closes
 * its input and cancels queued items; fail-fast (the default) does the same on the first error.
 * The caller owns the stage: submit, `closeInput()`, drain `out()`, then `wait()` (or dispose it
 * with `await using`).
 *
 * @example
 * ```ts
 * const stage = start(async (url: string) => (await fetch(url)).status, { workers: 4, capacity: 8 });
 * const feeding = (async () => {
 *   for (const url of urls) await stage.submit(url);
 *   stage.closeInput();
 * })();
 * for await (const r of stage.out()) console.log(r.ok ? r.value : r.error);
 * await feeding;
 * await stage.wait(); // rejects with the first error (fail-fast is the default)
 * ```
 */
export function start<T, R>(fn: StageFn<T, R>, options?: StageOptions<T>): Stage<T, R> {
  checkFunction('fn', fn);
  return new Stage(new StageCore(fn, resolveOptions(options)));
}

/**
 * Starts a stage fed from `source`: ok values are submitted to `fn`, error results are forwarded
 * straight to `out()` (they bypass the queue, so they may overtake queued items; they never
 * trigger fail-fast). The source is read to its end whatever happens (source ownership): after
 * the stage stops, items are read and dropped (`Stats.dropped`), so upstream can always finish.
 * A source whose iteration throws ends there, and its error is forwarded as one more result.
 * The feeder owns the input: do not call `submit`/`closeInput` yourself (it is handled, but
 * external submits fall outside `received = submitted + forwarded + dropped`).
 *
 * @example
 * ```ts
 * const parse = startFrom(fromIterable(lines), (line: string) => JSON.parse(line), { workers: 2 });
 * const store = startFrom(parse.out(), async (rec: unknown) => save(rec), { capacity: 16 });
 * for await (const r of store.out()) if (!r.ok) console.error(r.error);
 * await Promise.all([parse.wait(), store.wait()]);
 * ```
 */
export function startFrom<T, R>(
  source: Source<T>,
  fn: StageFn<T, R>,
  options?: StageOptions<T>,
): Stage<T, R> {
  checkFunction('fn', fn);
  const resolved = resolveOptions(options);
  const { it, sync } = sourceIterator(source);
  const core = new StageCore(fn, resolved);
  core.attachFeeder();
  void feed(core, it, sync);
  return new Stage(core);
}

/**
 * @deprecated Renamed `startFrom` (the name `pipe` clashes with the `sluice/pipe` entry point);
 * this alias is removed in the next minor version.
 */
export const pipe: typeof startFrom = startFrom;
