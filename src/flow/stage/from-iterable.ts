/**
 * `fromIterable`: toc's `FromChan` — lifts a plain (sync or async) iterable of values into a flow
 * channel of results, each value as `ok(value)`.
 */
import { err, ok, type Result } from '../result.js';
import { invalid } from '../validate.js';

/**
 * Wraps `iterable` as an `AsyncIterableIterator<Result<T>>` of `ok(value)`s, in order, ending when
 * it ends. If iterating throws, that error comes out as one `err(error)` and the stream ends.
 * Reading is lazy (one value per `next()`); `return()` is passed on to the source iterator, so
 * breaking out closes a generator. Hand-written, not an async generator: a sync source costs one
 * resolved promise per value.
 *
 * @example
 * ```ts
 * const stage = startFrom(fromIterable(['a', 'b']), (s: string) => s.toUpperCase());
 * for await (const r of stage) console.log(r); // ok('A'), ok('B')
 * ```
 */
export function fromIterable<T>(
  iterable: Iterable<T> | AsyncIterable<T>,
): AsyncIterableIterator<Result<T>> {
  const a = (iterable as AsyncIterable<T>)?.[Symbol.asyncIterator];
  if (typeof a === 'function') return new FromAsync(a.call(iterable));
  const s = (iterable as Iterable<T>)?.[Symbol.iterator];
  if (typeof s === 'function') return new FromSync(s.call(iterable));
  throw invalid('iterable', 'must be an Iterable or AsyncIterable', iterable);
}

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as never;

class FromSync<T> implements AsyncIterableIterator<Result<T>> {
  private ended = false;
  constructor(private readonly it: Iterator<T>) {}
  next(): Promise<IteratorResult<Result<T>>> {
    if (this.ended) return Promise.resolve(DONE);
    try {
      const step = this.it.next();
      if (step.done) {
        this.ended = true;
        return Promise.resolve(DONE);
      }
      return Promise.resolve({ value: ok(step.value), done: false });
    } catch (error) {
      this.ended = true;
      return Promise.resolve({ value: err<T>(error), done: false });
    }
  }
  return(): Promise<IteratorResult<Result<T>>> {
    if (!this.ended) {
      this.ended = true;
      this.it.return?.();
    }
    return Promise.resolve(DONE);
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

class FromAsync<T> implements AsyncIterableIterator<Result<T>> {
  private ended = false;
  constructor(private readonly it: AsyncIterator<T>) {}
  async next(): Promise<IteratorResult<Result<T>>> {
    if (this.ended) return DONE;
    try {
      const step = await this.it.next();
      if (step.done) {
        this.ended = true;
        return DONE;
      }
      return { value: ok(step.value), done: false };
    } catch (error) {
      this.ended = true;
      return { value: err<T>(error), done: false };
    }
  }
  async return(): Promise<IteratorResult<Result<T>>> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
    return DONE;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}
