/** The options of `cluster.stage()` and their validation. */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidOptionError } from '../../proc/index.js';
import { type Codec, type CodecOption, resolveCodec } from '../wire/codec.js';

/** Options of `cluster.stage()`. */
export interface ClusterStageOptions {
  /**
   * The bounded buffer: items submitted and not yet answered (queued in the stream or in a
   * worker) plus results not yet taken from `out()`. It is the work stream's `max_msgs`; `submit`
   * waits while it is full.
   * @default 1000
   */
  capacity?: number;
  /**
   * The rope: items in flight across every worker of every process (the workers' consumer's
   * `max_ack_pending`), clamped to [1, capacity]. Change it live with `setMaxWIP`.
   * @default capacity
   */
  maxWIP?: number;
  /**
   * How long a worker may hold an item without a sign of life before the server gives it to
   * another worker (at least 100). Workers send `working()` heartbeats while `fn` runs, so a long
   * item keeps its lease; only a dead or frozen worker loses it.
   * @default 30000
   */
  ackWaitMs?: number;
  /**
   * Deliveries of one item before it is dead-lettered: reported as a failed result
   * (`DeadLetterError`) and removed instead of being tried again.
   * @default 5
   */
  maxDeliver?: number;
  /** How items and results are encoded: `'msgpack'`, `'json'` or a `Codec`. @default 'msgpack' */
  codec?: CodecOption;
  /**
   * Where the server keeps the stage's items (results are never stored: they go straight to the
   * coordinator). `'file'` survives a server restart: items queued or in flight come back with
   * the server. `'memory'` spares the server its store writes (less server CPU per item) but a
   * server restart loses every item it held: the coordinator sees that when it reconnects and
   * fails the stage with `ClusterUnavailableError` (pending items get it as their result), so use
   * it only where items can be lost with the server. Changing it for an existing stage recreates
   * its stream (a coordinator starts clean anyway).
   * @default 'file'
   */
  storage?: StageStorage;
  /**
   * How long the server may be unreachable before waiting submits and pending items fail with
   * `ClusterUnavailableError` (the stage then ends: `wait()` rejects with it).
   * @default 30000
   */
  unavailableTimeoutMs?: number;
  /** A worker silent for this long no longer counts as live in `stats()`. @default 5000 */
  workerStaleMs?: number;
  /**
   * Aborting it cancels the stage: pending items get a canceled result (the signal's reason).
   * An already-aborted signal makes `cluster.stage()` reject with its reason, creating nothing.
   * @default none
   */
  signal?: AbortSignal;
}

/** Where a stage's work stream is stored on the server (see `ClusterStageOptions.storage`). */
export type StageStorage = 'file' | 'memory';

/** Options validated and defaulted. */
export interface ResolvedStageOptions {
  capacity: number;
  maxWIP: number;
  ackWaitMs: number;
  maxDeliver: number;
  unavailableTimeoutMs: number;
  workerStaleMs: number;
  codec: Codec;
  storage: StageStorage;
  signal: AbortSignal | undefined;
}

/** @internal What a cluster hands its stages. */
export interface StageContext {
  pipeline: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  forget(stage: AsyncDisposable): void;
}

function positiveInt(option: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(option, `must be an integer >= ${min} (got ${String(value)})`);
  }
  return value;
}

/** Validates `options` and fills in defaults; throws `InvalidOptionError` naming the bad one. */
export function resolveStageOptions(
  options: ClusterStageOptions | undefined,
): ResolvedStageOptions {
  const o = options ?? {};
  if (o === null || typeof o !== 'object')
    throw new InvalidOptionError('options', 'must be an object');
  const capacity = positiveInt('capacity', o.capacity, 1000);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  }
  if (o.storage !== undefined && o.storage !== 'file' && o.storage !== 'memory') {
    throw new InvalidOptionError(
      'storage',
      `must be 'file' or 'memory' (got ${String(o.storage)})`,
    );
  }
  return {
    capacity,
    maxWIP: Math.min(positiveInt('maxWIP', o.maxWIP, capacity), capacity),
    ackWaitMs: positiveInt('ackWaitMs', o.ackWaitMs, 30_000, 100),
    maxDeliver: positiveInt('maxDeliver', o.maxDeliver, 5),
    unavailableTimeoutMs: positiveInt('unavailableTimeoutMs', o.unavailableTimeoutMs, 30_000),
    workerStaleMs: positiveInt('workerStaleMs', o.workerStaleMs, 5000),
    codec: resolveCodec(o.codec),
    storage: o.storage ?? 'file',
    signal: o.signal,
  };
}
