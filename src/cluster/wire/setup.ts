/**
 * Creating (or taking over) a stage's JetStream objects: the work stream and its workers'
 * consumer, the result stream and the coordinator's consumer. See docs/cluster.md, "Mapping".
 */
import {
  AckPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { StageNames } from './names.js';

/** What a coordinator asks for. */
export interface StageSpec {
  capacity: number;
  maxWIP: number;
  ackWaitMs: number;
  maxDeliver: number;
  /** Where both streams are stored (a stream's storage cannot change: it is recreated). */
  storage: 'file' | 'memory';
}

const NS_PER_MS = 1_000_000;

function notFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === 10059 || error.code === 10014);
}

/**
 * Makes sure both streams and both consumers exist with `spec` (updating them when they exist),
 * then purges both streams: a coordinator always starts clean (items and results of an earlier
 * run are dropped; see docs/cluster.md, "Coordinator restarts").
 */
export async function ensureStage(
  jsm: JetStreamManager,
  n: StageNames,
  spec: StageSpec,
): Promise<void> {
  const storage = spec.storage === 'memory' ? StorageType.Memory : StorageType.File;
  const work = {
    name: n.workStream,
    subjects: [n.workSubject],
    retention: RetentionPolicy.Workqueue,
    storage,
    max_msgs: spec.capacity,
    discard: DiscardPolicy.New,
  };
  const results = {
    name: n.resultStream,
    subjects: [n.resultSubject],
    // Interest retention lets the coordinator's one consumer acknowledge all results up to one
    // with a single ack (work-queue streams take explicit acks only): a result leaves the stream
    // once acknowledged, as in a work queue.
    retention: RetentionPolicy.Interest,
    storage,
  };
  for (const cfg of [work, results]) {
    try {
      const info = await jsm.streams.info(cfg.name);
      if (info.config.storage !== storage || info.config.retention !== cfg.retention) {
        // The server cannot change a stream's storage or retention (streams of an earlier
        // version kept results in a work queue); a coordinator starts clean anyway.
        await jsm.streams.delete(cfg.name);
        await jsm.streams.add(cfg);
      } else await jsm.streams.update(cfg.name, cfg);
    } catch (error) {
      if (!notFound(error)) throw error;
      await jsm.streams.add(cfg);
    }
  }
  const workers = {
    durable_name: n.workConsumer,
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: spec.maxWIP,
    ack_wait: spec.ackWaitMs * NS_PER_MS,
    // One delivery more than maxDeliver: the worker that receives it reports a dead letter
    // instead of running the item again.
    max_deliver: spec.maxDeliver + 1,
  };
  const coordinator = {
    durable_name: n.resultConsumer,
    // One ack covers every result delivered before it (see readResults).
    ack_policy: AckPolicy.All,
    max_ack_pending: -1,
    // A result delivered while the connection broke comes again soon (duplicates are dropped).
    ack_wait: 5000 * NS_PER_MS,
  };
  for (const [stream, cfg] of [
    [n.workStream, workers],
    [n.resultStream, coordinator],
  ] as const) {
    try {
      await jsm.consumers.info(stream, cfg.durable_name);
      const { durable_name: _d, ...update } = cfg;
      await jsm.consumers.update(stream, cfg.durable_name, update);
    } catch (error) {
      if (!notFound(error)) throw error;
      await jsm.consumers.add(stream, cfg);
    }
  }
  await jsm.streams.purge(n.workStream);
  await jsm.streams.purge(n.resultStream);
}

/** Deletes both streams of a stage (their consumers go with them). Missing ones are fine. */
export async function removeStage(jsm: JetStreamManager, n: StageNames): Promise<void> {
  for (const name of [n.workStream, n.resultStream]) {
    try {
      await jsm.streams.delete(name);
    } catch (error) {
      if (!notFound(error)) throw error;
    }
  }
}

export { notFound as isNotFound };
