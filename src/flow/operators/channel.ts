/**
 * An unbuffered hand-off for the operators (batcher, tee, merge, join): `send` settles when a
 * reader has taken the value (true) or when the sender's wait was cancelled (false). The reading
 * side is a hand-written async iterator. Breaking out of `for await` (`return()`) abandons the
 * channel: later sends are accepted and dropped at once, so the operator can drain its source.
 * Internal to flow.
 */
import { Deque } from '../deque.js';

interface Sender<T> {
  value: T;
  resolve: (taken: boolean) => void;
}

type Resolve<T> = (r: IteratorResult<T>) => void;

export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly senders = new Deque<Sender<T>>();
  private readonly receivers = new Deque<Resolve<T>>();
  private closed = false;
  private abandoned = false;
  /** Time senders spent waiting for a reader, cumulative (ms). */
  blockedMs = 0;

  /** Hands `value` over: `true` at once when a reader waits (or the reader left), else a promise. */
  send(value: T): true | Promise<boolean> {
    if (this.abandoned) return true;
    const r = this.receivers.shift();
    if (r !== undefined) {
      r({ value, done: false });
      return true;
    }
    const since = performance.now();
    return new Promise<boolean>((resolve) => {
      this.senders.push({
        value,
        resolve: (taken) => {
          this.blockedMs += performance.now() - since;
          resolve(taken);
        },
      });
    });
  }

  /** Fails every waiting send (the operator was cancelled). */
  cancelSends(): void {
    while (this.senders.length > 0) (this.senders.shift() as Sender<T>).resolve(false);
  }

  next(): Promise<IteratorResult<T>> {
    const s = this.senders.shift();
    if (s !== undefined) {
      s.resolve(true);
      return Promise.resolve({ value: s.value, done: false });
    }
    if (this.closed || this.abandoned) return Promise.resolve({ value: undefined, done: true });
    return new Promise<IteratorResult<T>>((resolve) => this.receivers.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.abandoned = true;
    while (this.senders.length > 0) (this.senders.shift() as Sender<T>).resolve(true);
    this.endReceivers();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** No more values; readers see the end once waiting values are taken. */
  close(): void {
    this.closed = true;
    if (this.senders.length === 0) this.endReceivers();
  }

  private endReceivers(): void {
    while (this.receivers.length > 0) {
      (this.receivers.shift() as Resolve<T>)({ value: undefined, done: true });
    }
  }
}

/** Calls `onAbort` once when `signal` aborts; returns the function that removes the listener. */
export function onAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** Options every operator takes. */
export interface OperatorOptions {
  /**
   * Cancels the operator: it stops sending downstream (waiting sends are dropped), keeps reading
   * its source(s) to the end and discards what it reads, and `wait()` rejects with the reason
   * when the cancel made it drop something.
   * @default none
   */
  signal?: AbortSignal;
}
