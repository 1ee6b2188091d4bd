/**
 * A worker's result on its way to the result stream: encoded (a value the codec cannot encode,
 * or one over the server's max payload, becomes a failed result saying so), then published until
 * the stream has stored it, since the item is acknowledged only after that.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { DecodeError, PayloadTooLargeError } from '../errors.js';
import type { Codec } from '../wire/codec.js';
import { HEADER_ROOM, messageHeaders, type ResultEnvelope, wireError } from '../wire/envelope.js';
import { sleep } from '../wire/util.js';
import type { Delivery } from './delivery.js';

/** The body of `envelope` for the result of item `id`, within `maxPayload` bytes. */
export function encodeResult(
  id: string,
  envelope: ResultEnvelope,
  codec: Codec,
  maxPayload: number,
): Uint8Array {
  let body: Uint8Array;
  try {
    body = codec.encode(envelope);
  } catch (error) {
    const w = wireError(
      new DecodeError(`encode the result of ${id} (codec ${codec.name})`, { cause: error }),
    );
    body = codec.encode({ ...envelope, ok: false, value: undefined, error: w.error });
  }
  const max = maxPayload - HEADER_ROOM;
  if (body.length > max) {
    const w = wireError(new PayloadTooLargeError(`the result of ${id}`, body.length, max));
    body = codec.encode({ ...envelope, ok: false, value: undefined, error: w.error });
  }
  return body;
}

/** Where results go, and when to stop trying. */
export interface ResultTarget {
  nc: NatsConnection;
  js: JetStreamClient;
  /** The stage's result subject. */
  subject: string;
  /** True once the worker gave up on unstored results (a stop past its grace). */
  abandoned: () => boolean;
  /** Aborts with `abandoned`: cuts a retry's wait short. */
  abandonSignal: AbortSignal;
}

/**
 * Publishes a result, retrying (20 ms backoff doubling to 1 s, keeping the item's lease) until it
 * is stored; false when the worker gave up on it or the connection closed for good (the item is
 * then delivered again after the ack wait). `Nats-Msg-Id` is `r.<id>`, so a retry of a publish
 * that was stored after all is stored once.
 */
export async function publishResult(
  target: ResultTarget,
  id: string,
  envelope: ResultEnvelope,
  codec: Codec,
  msg: Delivery,
): Promise<boolean> {
  const { nc, js } = target;
  const body = encodeResult(id, envelope, codec, nc.info?.max_payload ?? 1024 * 1024);
  const headers = messageHeaders(id, codec);
  let backoff = 20;
  for (;;) {
    if (target.abandoned() || nc.isClosed()) return false;
    try {
      await js.publish(target.subject, body, { msgID: `r.${id}`, headers });
      return true;
    } catch {
      // Keep the lease while the server is away; the item is handed back on a hard stop.
      msg.working();
      await sleep(backoff, target.abandonSignal);
      backoff = Math.min(backoff * 2, 1000);
    }
  }
}
