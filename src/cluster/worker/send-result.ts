/**
 * A worker's result on its way to the coordinator: encoded (a value the codec cannot encode, or
 * one over the server's max payload, becomes a failed result saying so), then sent with the
 * subject that acknowledges its item.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { DecodeError, PayloadTooLargeError } from '../errors.js';
import type { Codec } from '../wire/codec.js';
import {
  H_ACK,
  messageHeaders,
  RESULT_HEADER_ROOM,
  type ResultEnvelope,
  wireError,
} from '../wire/envelope.js';
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
  const max = maxPayload - RESULT_HEADER_ROOM;
  if (body.length > max) {
    const w = wireError(new PayloadTooLargeError(`the result of ${id}`, body.length, max));
    body = codec.encode({ ...envelope, ok: false, value: undefined, error: w.error });
  }
  return body;
}

/** Where results go. */
export interface ResultTarget {
  nc: NatsConnection;
  /** The stage's result subject (core NATS: the coordinator listens there). */
  subject: string;
}

/**
 * Sends a result to the coordinator, naming the item's ack subject (`Sluice-Ack`) so the
 * coordinator acknowledges the item once it holds the result. One core publish, no reply
 * awaited: a result that is lost (the coordinator or the server away) leaves its item
 * unacknowledged, and the server delivers it again after the ack wait. Returns false when the
 * connection is closed for good (the result was not sent).
 */
export function sendResult(
  target: ResultTarget,
  id: string,
  envelope: ResultEnvelope,
  codec: Codec,
  msg: Delivery,
): boolean {
  const { nc } = target;
  if (nc.isClosed()) return false;
  const body = encodeResult(id, envelope, codec, nc.info?.max_payload ?? 1024 * 1024);
  const headers = messageHeaders(id, codec);
  headers.set(H_ACK, msg.reply);
  try {
    nc.publish(target.subject, body, { headers });
    return true;
  } catch {
    return false;
  }
}
