/** The options of `cluster.serve()`, the `StageServer` interface, and their validation. */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_GRACE_MS, InvalidOptionError } from '../../proc/index.js';
import { type Codec, type CodecOption, resolveCodec } from '../wire/codec.js';
import type { WorkerStats } from '../wire/worker-stats.js';

/** A stage's work: called once per delivery of an item, with a signal aborted on a hard stop. */
export type ClusterFn<T, R> = (item: T, signal: AbortSignal) => Promise<R> | R;

/** Options of `cluster.serve()`. */
export interface ServeOptions {
  /** Items this server runs at once (async concurrency, like flow's `workers`). @default 1 */
  workers?: number;
  /**
   * A custom codec to understand (items name their codec; `'msgpack'` and `'json'` are always
   * understood). @default 'msgpack'
   */
  codec?: CodecOption;
  /** How often it publishes its stats. @default 1000 */
  statsIntervalMs?: number;
  /**
   * On stop, how long running items may take to finish before they are handed back (nak, so
   * another worker gets them at once) and their signal aborted.
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /**
   * How long one pull waits for an item before asking again (bounds how fast a stop is seen; at
   * least 1000, the NATS client's minimum).
   * @default 1000
   */
  pollMs?: number;
  /** Aborting it stops the server gracefully, as `stop()`. @default none */
  signal?: AbortSignal;
}

/** A running worker for one stage. Stop it with `stop()` or `await using`. */
export interface StageServer extends AsyncDisposable {
  /** `host:pid:n`, the id in its stats and in the results it sends. */
  readonly id: string;
  /** Its counters now. */
  stats(): WorkerStats;
  /**
   * Stops taking items; lets running ones finish for `graceMs`, then hands the rest back (nak)
   * and aborts their signal; publishes a last stats report. Idempotent; never rejects.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Settles when the server has stopped. */
  readonly done: Promise<void>;
}

/** @internal What a cluster hands its servers. */
export interface ServeContext {
  pipeline: string;
  nc: NatsConnection;
  js: JetStreamClient;
  forget(server: StageServer): void;
}

/** Options validated and defaulted. */
export interface ResolvedServeOptions {
  slots: number;
  graceMs: number;
  pollMs: number;
  statsIntervalMs: number;
  codec: Codec;
  signal: AbortSignal | undefined;
}

function int(name: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidOptionError(name, `must be an integer >= ${min} (got ${String(v)})`);
  }
  return v;
}

/** Validates `options` and fills in defaults; throws `InvalidOptionError` naming the bad one. */
export function resolveServeOptions(options: ServeOptions | undefined): ResolvedServeOptions {
  const o = options ?? {};
  if (o === null || typeof o !== 'object')
    throw new InvalidOptionError('options', 'must be an object');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  }
  return {
    slots: int('workers', o.workers, 1, 1),
    graceMs: int('graceMs', o.graceMs, DEFAULT_GRACE_MS, 0),
    pollMs: int('pollMs', o.pollMs, 1000, 1000),
    statsIntervalMs: int('statsIntervalMs', o.statsIntervalMs, 1000, 10),
    codec: resolveCodec(o.codec),
    signal: o.signal,
  };
}
