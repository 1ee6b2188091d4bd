/**
 * Ticks for the control loops (RopeController, autoRope, Reporter), injectable so tests step the
 * loops by hand with no timers and no sleeps.
 */
import { type Clock, systemClock } from '../../proc/index.js';

/** A source of ticks: `ticks(intervalMs, signal)` yields once per tick and ends when `signal` aborts. */
export interface Ticker {
  /** Yields once per tick until `signal` aborts. */
  ticks(intervalMs: number, signal: AbortSignal): AsyncIterable<void>;
}

/**
 * The real ticker: a `setInterval` that is `unref()`ed, so a control loop never keeps the process
 * alive on its own (like a goroutine, it stops mattering when the work is done). Ticks that fire
 * while the loop is still busy with the previous one are coalesced into one, as Go's ticker drops
 * them. Abort ends the iteration; the interval is always cleared.
 */
export const timerTicker: Ticker = {
  ticks(intervalMs, signal) {
    return {
      [Symbol.asyncIterator](): AsyncIterator<void> {
        let fired = false;
        let done = signal.aborted;
        let waiter: ((r: IteratorResult<void>) => void) | undefined;
        const timer = done
          ? undefined
          : setInterval(() => {
              if (waiter) {
                const w = waiter;
                waiter = undefined;
                w({ done: false, value: undefined });
              } else {
                fired = true;
              }
            }, intervalMs);
        timer?.unref();
        const finish = () => {
          done = true;
          if (timer) clearInterval(timer);
          signal.removeEventListener('abort', finish);
          if (waiter) {
            const w = waiter;
            waiter = undefined;
            w({ done: true, value: undefined });
          }
        };
        if (!done) signal.addEventListener('abort', finish, { once: true });
        return {
          next() {
            if (done) return Promise.resolve({ done: true, value: undefined });
            if (fired) {
              fired = false;
              return Promise.resolve({ done: false, value: undefined });
            }
            return new Promise((resolve) => {
              waiter = resolve;
            });
          },
          return() {
            finish();
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
  },
};

/**
 * A ticker driven by hand. `tick()` delivers one tick and resolves once the loop has finished
 * handling it (it asked for the next tick, or stopped), so a test can write
 * `await ticker.tick(); assert(...)` with no sleeps. Ticks given before the loop starts are
 * queued. One loop may consume it at a time.
 */
export class ManualTicker implements Ticker {
  #pending: Array<() => void> = [];
  #delivered: Array<() => void> = [];
  #waiter: ((r: IteratorResult<void>) => void) | undefined;
  #active = false;
  #ended = false;

  /**
   * Delivers one tick; resolves when the consumer has handled it or has stopped. Before any loop
   * started, the tick is queued; after the last loop ended, it resolves at once, unhandled.
   */
  tick(): Promise<void> {
    return new Promise<void>((ack) => {
      if (this.#ended && !this.#active) {
        ack();
      } else if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        this.#delivered.push(ack);
        w({ done: false, value: undefined });
      } else {
        this.#pending.push(ack);
      }
    });
  }

  /** Delivers `n` ticks one after another. */
  async tickN(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.tick();
  }

  /** Whether a loop is consuming this ticker now. */
  get active(): boolean {
    return this.#active;
  }

  /** The ticks this ticker delivers by hand (`tick()`); ends when `signal` aborts. */
  ticks(_intervalMs: number, signal: AbortSignal): AsyncIterable<void> {
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<void> => {
        let done = signal.aborted;
        this.#active = !done;
        this.#ended = done;
        const ackAll = () => {
          for (const a of this.#delivered.splice(0)) a();
        };
        const finish = () => {
          done = true;
          this.#active = false;
          this.#ended = true;
          signal.removeEventListener('abort', finish);
          ackAll();
          for (const a of this.#pending.splice(0)) a();
          if (this.#waiter) {
            const w = this.#waiter;
            this.#waiter = undefined;
            w({ done: true, value: undefined });
          }
        };
        if (!done) signal.addEventListener('abort', finish, { once: true });
        return {
          next: () => {
            ackAll();
            if (done) return Promise.resolve({ done: true, value: undefined });
            const ack = this.#pending.shift();
            if (ack) {
              this.#delivered.push(ack);
              return Promise.resolve({ done: false, value: undefined });
            }
            return new Promise((resolve) => {
              this.#waiter = resolve;
            });
          },
          return: () => {
            finish();
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
  }
}

/**
 * The time options of a control loop: `clock` (sluice's one `Clock` type) and, deprecated,
 * `now` (a bare function, the 0.1 form).
 */
export interface ClockOptions {
  /**
   * The clock the loop reads its time from (tests inject a fake).
   * @default systemClock (`performance.now()`)
   */
  clock?: Clock;
  /** @deprecated Pass `clock` (an object with `now()`); removed in the next minor version. */
  now?: () => number;
}

/** @internal The time source `options` name: `clock.now`, else `now`, else `performance.now`. */
export function nowOf(options: ClockOptions | undefined): () => number {
  const clock = options?.clock;
  if (clock !== undefined) return () => clock.now();
  return options?.now ?? systemClock.now;
}
