/**
 * The coordinator's output: results waiting to be taken, handed to `out()` readers in arrival
 * order. Memory is bounded by the gate (one permit per result held here). Breaking out of a
 * `for await` (or `discard()`) drops every result from then on, so the stage can still finish.
 */
import type { Result } from '../../flow/index.js';

interface Held<R> {
  result: Result<R>;
  at: number;
}

export class ResultQueue<R> implements AsyncIterableIterator<Result<R>> {
  readonly #items: Held<R>[] = [];
  #head = 0;
  readonly #readers: ((r: IteratorResult<Result<R>>) => void)[] = [];
  #ended = false;
  #discarding = false;
  /** Cumulative time results waited for a reader, ms. */
  blockedMs = 0;
  readonly #onTaken: () => void;

  /** `onTaken` runs once per result handed out or dropped (it returns the permit). */
  constructor(onTaken: () => void) {
    this.#onTaken = onTaken;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(result: Result<R>): void {
    const reader = this.#readers.shift();
    if (reader) {
      reader({ done: false, value: result });
      this.#onTaken();
    } else if (this.#discarding) {
      this.#onTaken();
    } else {
      this.#items.push({ result, at: performance.now() });
    }
  }

  /** No more results will be pushed: readers get `done` once the held ones are taken. */
  end(): void {
    this.#ended = true;
    if (this.length === 0)
      for (const r of this.#readers.splice(0)) r({ done: true, value: undefined });
  }

  get ended(): boolean {
    return this.#ended;
  }

  discard(): void {
    this.#discarding = true;
    while (this.length > 0) {
      this.#take();
    }
  }

  #take(): Result<R> {
    const held = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as never;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    this.blockedMs += performance.now() - held.at;
    this.#onTaken();
    return held.result;
  }

  next(): Promise<IteratorResult<Result<R>>> {
    if (this.length > 0) {
      const value = this.#take();
      if (this.#ended && this.length === 0) {
        for (const r of this.#readers.splice(0)) r({ done: true, value: undefined });
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  return(): Promise<IteratorResult<Result<R>>> {
    this.discard();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Result<R>> {
    return this;
  }
}
