/**
 * The messages between a coordinator and its workers (see docs/cluster.md, "Wire format").
 *
 * An item is published with headers `Nats-Msg-Id` (JetStream drops a second publish of the same
 * id within the stream's duplicate window), `Sluice-Id` (`<run>.<seq>`: the run is the
 * coordinator's, so results of an earlier run are recognised and dropped) and `Sluice-Codec`; its
 * body is the encoded item. A result body is the encoded {@link ResultEnvelope}.
 */
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/nats-core';
import type { Result } from '../../flow/index.js';
import { PanicError, toError } from '../../proc/index.js';
import { RemoteError } from '../errors.js';
import { builtinCodecs, type Codec } from './codec.js';

/** Header bytes kept free below the server's max_payload for sluice's and NATS's headers. */
export const HEADER_ROOM = 256;
/** The same for a result, whose headers also carry its item's ack subject (up to ~200 bytes). */
export const RESULT_HEADER_ROOM = 512;

/** Header names. */
export const H_ID = 'Sluice-Id';
export const H_CODEC = 'Sluice-Codec';
/** On a result: the item's ack subject, where the coordinator acknowledges it. */
export const H_ACK = 'Sluice-Ack';
/** The body that acknowledges a JetStream message (published to its ack subject). */
export const ACK_BODY = Uint8Array.of(43, 65, 67, 75); // +ACK

/** An error as it crosses the wire. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** A result as it crosses the wire. */
export interface ResultEnvelope {
  /** The item id (`<run>.<seq>`). */
  id: string;
  ok: boolean;
  value?: unknown;
  error?: WireError;
  /** The worker that ran it (`host:pid:n`). */
  worker: string;
  /** Time in `fn`, measured by the worker, in ms. */
  serviceMs: number;
  /** `fn` threw something that is not an Error. */
  panicked?: boolean;
  /** Set when the item was dead-lettered instead of run. */
  deadLetter?: boolean;
}

/**
 * Sluice's headers for one item or result (JetStream's `Nats-Msg-Id` is set by the publish's
 * `msgID` option).
 */
export function messageHeaders(id: string, codec: Codec): MsgHdrs {
  const h = natsHeaders();
  h.set(H_ID, id);
  h.set(H_CODEC, codec.name);
  return h;
}

/**
 * Decodes a result message with the codec it names (`codec` when it names that one, else a
 * built-in one); undefined when it cannot be decoded or is not an envelope.
 */
export function decodeResult(
  m: { data: Uint8Array; headers?: MsgHdrs | undefined },
  codec: Codec,
): ResultEnvelope | undefined {
  try {
    const name = m.headers?.get(H_CODEC) || codec.name;
    const c = name === codec.name ? codec : builtinCodecs.get(name);
    return c ? asEnvelope(c.decode(m.data)) : undefined;
  } catch {
    return undefined;
  }
}

/** What a worker sends for a thrown value: name, message, code and stack. */
export function wireError(thrown: unknown): { error: WireError; panicked: boolean } {
  const { error, panicked } = toError(thrown, 'cluster fn');
  const code = (error as { code?: unknown }).code;
  const wire: WireError = { name: error.name, message: error.message };
  if (typeof code === 'string') wire.code = code;
  else if (panicked) wire.code = new PanicError(undefined).code;
  if (typeof error.stack === 'string') wire.stack = error.stack;
  return { error: wire, panicked };
}

/** The flow result a coordinator hands out for an envelope. */
export function toResult<R>(envelope: ResultEnvelope): Result<R> {
  if (envelope.ok) return { ok: true, value: envelope.value as R };
  const e = envelope.error ?? { name: 'Error', message: 'unknown remote error' };
  return { ok: false, error: new RemoteError(e, envelope.worker) };
}

/** Checks the shape of a decoded result envelope; undefined when it is not one. */
export function asEnvelope(value: unknown): ResultEnvelope | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Partial<ResultEnvelope>;
  if (typeof v.id !== 'string' || typeof v.ok !== 'boolean' || typeof v.worker !== 'string') {
    return undefined;
  }
  if (typeof v.serviceMs !== 'number') return undefined;
  if (!v.ok && (v.error === null || typeof v.error !== 'object')) return undefined;
  return v as ResultEnvelope;
}
