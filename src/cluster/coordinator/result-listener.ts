/**
 * `ResultListener`: how a coordinator hears results and lets their items go. Results come as
 * core NATS messages on the stage's result subject (nothing stores them), each naming its item's
 * ack subject (`Sluice-Ack`); once the coordinator holds a result it acknowledges the item there,
 * so an item leaves the work stream only after its result arrived, and a result lost on the way
 * (the coordinator or the server away) leaves its item to be delivered again after the ack wait.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { ACK_BODY, H_ACK } from '../wire/envelope.js';
import type { StageNames } from '../wire/names.js';

/** Acknowledgements held back are sent when this many are due… */
const ACK_BATCH = 64;
/** …or this long after the first of them (ms); the ack wait is at least 100 ms. */
const ACK_DELAY_MS = 10;

/**
 * Whether `subject` is an ack subject of `stream`'s messages:
 * `$JS.ACK.<stream>.…` (9 tokens) or `$JS.ACK.<domain>.<account hash>.<stream>.…` (11 or more).
 */
export function isAckSubjectOf(subject: string, stream: string): boolean {
  const t = subject.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return false;
  return (t.length === 9 && t[2] === stream) || (t.length >= 11 && t[4] === stream);
}

export class ResultListener {
  readonly #nc: NatsConnection;
  readonly #sub: Subscription;
  /** Ack subjects of results held, not yet acknowledged. */
  readonly #due: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #mayHoldAcks: (n: number) => boolean;

  /**
   * Listens on `names.resultSubject`, handing each message to `onMessage`, then acknowledging the
   * item it answers (stale and duplicate results too, so their items leave the work stream; an
   * ack subject of another stream is ignored). `mayHoldAcks(n)` says whether `n` acknowledgements
   * may wait to leave together: only when holding them back keeps no item from being delivered
   * (the consumer's `max_ack_pending` counts them), so the coordinator answers false when the
   * items waiting in the stream and the acks held could exceed it (and calls `recheck()` when
   * that may have changed). Held ones leave within 10 ms, 64 at a time, or at `flush()`. The client subscribes again by itself after a reconnect.
   */
  constructor(
    nc: NatsConnection,
    names: StageNames,
    onMessage: (m: Msg) => void,
    mayHoldAcks: (n: number) => boolean,
  ) {
    this.#nc = nc;
    this.#mayHoldAcks = mayHoldAcks;
    const stream = names.workStream;
    this.#sub = nc.subscribe(names.resultSubject, {
      callback: (error, m) => {
        if (error) return;
        try {
          onMessage(m);
        } finally {
          const ack = m.headers?.get(H_ACK);
          if (ack && isAckSubjectOf(ack, stream)) this.#hold(ack);
        }
      },
    });
  }

  #hold(ack: string): void {
    const due = this.#due;
    due.push(ack);
    if (due.length >= ACK_BATCH || !this.#mayHoldAcks(due.length)) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), ACK_DELAY_MS);
  }

  /**
   * Asks `mayHoldAcks` again and sends the held acks if the answer changed: the coordinator calls
   * it when more items wait to be delivered (a submit) or the rope shortened, before the item is
   * published, so a held ack never keeps a new item waiting.
   */
  recheck(): void {
    if (this.#due.length > 0 && !this.#mayHoldAcks(this.#due.length)) this.flush();
  }

  /** Sends every held acknowledgement now (they leave in one write). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const nc = this.#nc;
    for (const ack of this.#due.splice(0)) {
      if (nc.isClosed()) return; // their items come again to a later coordinator, if any
      try {
        nc.publish(ack, ACK_BODY);
      } catch {
        return;
      }
    }
  }

  /** Stops listening: results heard until now are handled and their items acknowledged. */
  async close(): Promise<void> {
    await this.#sub.drain().catch(() => {});
    this.flush();
  }
}
