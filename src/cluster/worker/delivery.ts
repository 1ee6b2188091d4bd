/**
 * `Delivery`: one item a worker pulled from the work consumer, and the two answers a worker gives
 * it (`-NAK`, `+WPI`; the coordinator gives the third, `+ACK`, once it holds the result), each one core publish to the message's reply subject.
 * The puller makes these straight from the messages its one subscription receives, instead of
 * the client's `JsMsg`, which only its own per-pull iterators build.
 */
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { ACK_BODY } from '../wire/envelope.js';

const NAK = Uint8Array.of(45, 78, 65, 75); // -NAK
const WPI = Uint8Array.of(43, 87, 80, 73); // +WPI

/** Where the server's reply subject (`$JS.ACK.…`) keeps the delivery count and stream sequence. */
interface AckInfo {
  deliveryCount: number;
  seq: number;
}

/**
 * Reads the delivery count and the stream sequence from an ack subject:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (9 tokens, servers before
 * 2.10 and most today) or with `<domain>.<account hash>` after `ACK` and a random token at the end
 * (12 tokens). Undefined for anything else.
 */
export function parseAckSubject(reply: string): AckInfo | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  const at = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (at < 0) return undefined;
  const deliveryCount = Number(t[at]);
  const seq = Number(t[at + 1]);
  if (!Number.isSafeInteger(deliveryCount) || !Number.isSafeInteger(seq)) return undefined;
  return { deliveryCount, seq };
}

/** One pulled item. Answer it once with `ack()` or `nak()`; `working()` keeps its lease. */
export class Delivery {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  /** Its sequence in the work stream. */
  readonly seq: number;
  /** 1 on the first delivery, more on redeliveries. */
  readonly deliveryCount: number;
  /**
   * The subject that answers it (`$JS.ACK.…`): the worker's result carries it, and the
   * coordinator acknowledges the item there once it holds the result.
   */
  readonly reply: string;
  readonly #nc: NatsConnection;

  constructor(nc: NatsConnection, msg: Msg, info: AckInfo) {
    this.#nc = nc;
    this.reply = msg.reply ?? '';
    this.data = msg.data;
    this.headers = msg.headers;
    this.seq = info.seq;
    this.deliveryCount = info.deliveryCount;
  }

  #send(body: Uint8Array): void {
    // A closed connection cannot answer: the item is redelivered after the ack wait.
    if (this.#nc.isClosed()) return;
    try {
      this.#nc.publish(this.reply, body);
    } catch {}
  }

  /** Done: the server removes the item from the work stream (the coordinator's answer, normally). */
  ack(): void {
    this.#send(ACK_BODY);
  }

  /** Handed back: the server delivers it again at once (to any worker). */
  nak(): void {
    this.#send(NAK);
  }

  /** Still running: restarts the item's ack wait. */
  working(): void {
    this.#send(WPI);
  }
}
