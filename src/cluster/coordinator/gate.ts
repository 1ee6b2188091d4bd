/**
 * The coordinator's admission gate: permits up to `capacity` (an item holds one from `submit`
 * until its result is taken from `out()`), FIFO waiters, pause, and the wait counters flow's
 * `Stats` reports. A submit whose signal aborts leaves the queue at once; one that is admitted
 * holds its permit whatever its signal does later.
 */
interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  cleanup(): void;
  since: number;
}

export class Gate {
  readonly capacity: number;
  held = 0;
  paused = false;
  waiterCount = 0;
  maxWaiterCount = 0;
  wipWaitCount = 0;
  wipWaitMs = 0;
  readonly #waiters: Waiter[] = [];
  #head = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** True when a permit can be taken now without waiting (and nobody waits before). */
  get free(): boolean {
    return !this.paused && this.held < this.capacity && this.waiterCount === 0;
  }

  /** Takes a permit at once; call only when `free`. */
  take(): void {
    this.held++;
  }

  /** Waits for a permit in FIFO order; rejects with the signal's reason if it aborts first. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const since = performance.now();
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter, this.#head);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          this.waiterCount--;
          this.wipWaitMs += performance.now() - since;
        }
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        since,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      this.#waiters.push(waiter);
      this.waiterCount++;
      this.wipWaitCount++;
      if (this.waiterCount > this.maxWaiterCount) this.maxWaiterCount = this.waiterCount;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Returns a permit and admits waiters while there is room. */
  release(): void {
    this.held--;
    this.pump();
  }

  /** Admits waiters while there is room and admission is not paused. */
  pump(): void {
    while (!this.paused && this.held < this.capacity && this.#head < this.#waiters.length) {
      const w = this.#waiters[this.#head++]!;
      this.#compact();
      this.waiterCount--;
      this.held++;
      this.wipWaitMs += performance.now() - w.since;
      w.cleanup();
      w.resolve();
    }
  }

  /** Rejects every waiter with `reason`. */
  rejectAll(reason: unknown): void {
    while (this.#head < this.#waiters.length) {
      const w = this.#waiters[this.#head++]!;
      this.waiterCount--;
      this.wipWaitMs += performance.now() - w.since;
      w.cleanup();
      w.reject(reason);
    }
    this.#waiters.length = 0;
    this.#head = 0;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
