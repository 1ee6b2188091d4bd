/**
 * `ConsumerLimits`: a worker's view of its stage's work consumer. It waits for the coordinator to
 * create the consumer, then keeps the two settings a worker obeys (the ack wait, for its
 * heartbeats, and the dead-letter threshold) up to date, since a restarted coordinator may
 * change them.
 */
import type { Consumer, ConsumerInfo, JetStreamClient } from '@nats-io/jetstream';
import type { StageNames } from '../wire/names.js';
import { sleep } from '../wire/util.js';

/** The ack wait and the dead-letter threshold a coordinator set on the workers' consumer. */
export interface Limits {
  ackWaitMs: number;
  maxDeliver: number;
}

function limitsOf(info: ConsumerInfo): Limits {
  return {
    ackWaitMs: (info.config.ack_wait ?? 30e9) / 1e6,
    // The consumer allows one delivery more than maxDeliver: that one reports the dead letter.
    maxDeliver: Math.max(1, (info.config.max_deliver ?? 0) - 1),
  };
}

/** How often the limits are read again. */
const REFRESH_MS = 2000;

export class ConsumerLimits {
  readonly #js: JetStreamClient;
  readonly #names: StageNames;
  readonly #stop: AbortSignal;
  #found: Promise<(Limits & { consumer: Consumer }) | undefined> | undefined;
  readonly #timer: NodeJS.Timeout;

  /** Looks for the consumer until `stop` aborts. */
  constructor(js: JetStreamClient, names: StageNames, stop: AbortSignal) {
    this.#js = js;
    this.#names = names;
    this.#stop = stop;
    this.#timer = setInterval(() => void this.#refresh(), REFRESH_MS);
    this.#timer.unref();
  }

  /**
   * The limits, once the consumer exists (looked for with a backoff from 100 ms to 1 s); the
   * same object every time until `forget()`, updated in place. Undefined once `stop` aborted.
   */
  get(): Promise<Limits | undefined> {
    this.#found ??= (async () => {
      let backoff = 100;
      while (!this.#stop.aborted) {
        try {
          const consumer = await this.#js.consumers.get(
            this.#names.workStream,
            this.#names.workConsumer,
          );
          return { consumer, ...limitsOf(await consumer.info(true)) };
        } catch {
          // Not created yet (or the server is away): look again.
        }
        await sleep(backoff, this.#stop);
        backoff = Math.min(backoff * 2, 1000);
      }
      return undefined;
    })();
    return this.#found;
  }

  /** The consumer went away: the next `get()` looks for it again. */
  forget(): void {
    this.#found = undefined;
  }

  /** Re-reads the limits into the found entry (errors: keep the old ones). */
  async #refresh(): Promise<void> {
    const c = await this.#found;
    if (c === undefined) return;
    try {
      Object.assign(c, limitsOf(await c.consumer.info()));
    } catch {
      // The server is away or the stage was removed; the puller finds out on its own.
    }
  }

  /** Stops refreshing. */
  close(): void {
    clearInterval(this.#timer);
  }
}
