/**
 * `Puller`: how a worker asks the work consumer for items. One subscription for the worker's
 * whole life and at most one pull request open at a time, for exactly as many items as the
 * worker has free slots: a worker never holds an item it cannot start, so the consumer's
 * `max_ack_pending` (the rope) stays the only cap and no worker hoards items another could run.
 *
 * Compared with the client's `consumer.next()` per slot, a pull costs one message (no
 * subscribe/unsubscribe pair, no iterator, no timers per item), and one request serves every slot
 * freed in the same turn of the event loop.
 *
 * A request ends when all its items came, when the server answers with a status (408 when it
 * expired, 409 when the consumer was deleted, 503 when nothing answers the pull subject), when the
 * connection came back after a break (the server forgot its requests), or, should none of these
 * arrive, a second after it expired: then the consumer is taken for gone (a pull to a consumer
 * that does not exist gets no answer at all) and the worker looks it up again.
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { Delivery, parseAckSubject } from './delivery.js';

/** What the puller tells its worker. */
export interface PullerEvents {
  /** An item came: start it, queue it, or hand it back. */
  item(delivery: Delivery): void;
  /** The open request ended: ask again if there is room. */
  ended(): void;
  /**
   * The consumer or its stream is gone, the pull was refused, or it got no answer at all: look
   * the consumer up again.
   */
  gone(): void;
}

/** Margin after a request's expiry before it is given up as lost. */
const LOST_AFTER_MS = 1000;

export class Puller {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #expiresMs: number;
  readonly #events: PullerEvents;
  readonly #inbox = createInbox();
  readonly #sub: Subscription;
  readonly #status: AsyncIterable<{ type: string }> & { stop?: () => void };
  #serial = 0;
  /** The open request's reply subject; undefined when none is open. */
  #open: string | undefined;
  /** Items the open request may still bring. */
  #asked = 0;
  #lostTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * Pulls from `stream`'s durable `consumer` through the JetStream API at `apiPrefix`; each
   * request waits at most `expiresMs` on the server.
   */
  constructor(
    nc: NatsConnection,
    apiPrefix: string,
    stream: string,
    consumer: string,
    expiresMs: number,
    events: PullerEvents,
  ) {
    this.#nc = nc;
    this.#subject = `${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.#expiresMs = expiresMs;
    this.#events = events;
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (error === null) this.#onMessage(msg);
      },
    });
    const status = nc.status();
    this.#status = status;
    void (async () => {
      for await (const s of status) if (s.type === 'reconnect') this.#end('ended');
    })().catch(() => {});
  }

  /** A request is open. */
  get open(): boolean {
    return this.#open !== undefined;
  }

  /** Items the open request may still bring (0 when none is open). */
  get asked(): number {
    return this.#asked;
  }

  /** Opens a request for `n` items; does nothing while one is open, after close, or for n < 1. */
  request(n: number): void {
    if (this.#open !== undefined || this.#closed || n < 1 || this.#nc.isClosed()) return;
    const reply = `${this.#inbox}.${++this.#serial}`;
    this.#open = reply;
    this.#asked = n;
    this.#lostTimer = setTimeout(() => this.#end('gone'), this.#expiresMs + LOST_AFTER_MS);
    try {
      this.#nc.publish(
        this.#subject,
        JSON.stringify({ batch: n, expires: this.#expiresMs * 1_000_000 }),
        { reply },
      );
    } catch {
      // The connection is closing: nothing will come.
      this.#end('gone');
    }
  }

  #onMessage(msg: Msg): void {
    const info = msg.reply ? parseAckSubject(msg.reply) : undefined;
    if (info !== undefined) {
      const fulfilled = this.#asked > 0 && --this.#asked === 0;
      this.#events.item(new Delivery(this.#nc, msg, info));
      if (fulfilled) this.#end('ended');
      return;
    }
    // A status for one of our requests: only the open one's matters.
    if (msg.subject !== this.#open) return;
    const code = msg.headers?.code ?? 0;
    if (code === 100) return; // an idle heartbeat
    this.#end(code === 408 || code === 404 ? 'ended' : 'gone');
  }

  #end(how: 'ended' | 'gone'): void {
    if (this.#open === undefined) return;
    this.#open = undefined;
    this.#asked = 0;
    clearTimeout(this.#lostTimer);
    this.#lostTimer = undefined;
    if (this.#closed) return;
    if (how === 'gone') this.#events.gone();
    else this.#events.ended();
  }

  /** Stops listening (an open request's items go unanswered: they come again after the ack wait). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#lostTimer);
    this.#open = undefined;
    this.#asked = 0;
    this.#status.stop?.();
    try {
      this.#sub.unsubscribe();
    } catch {}
  }
}
