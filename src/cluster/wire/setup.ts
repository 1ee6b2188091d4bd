/**
 * Creating (or taking over) a stage's JetStream objects: the work stream and its workers'
 * consumer (results travel as core NATS messages: nothing stores them). See docs/cluster.md,
 * "Mapping".
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
  /** Where the work stream is stored (a stream's storage cannot change: it is recreated). */
  storage: 'file' | 'memory';
}

const NS_PER_MS = 1_000_000;

function notFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === 10059 || error.code === 10014);
}

/**
 * Makes sure the work stream and the workers' consumer exist with `spec` (updating them when they
 * exist), then purges the stream: a coordinator always starts clean (items of an earlier run are
 * dropped; see docs/cluster.md, "Coordinator restarts"). A result stream left by sluice 0.2 is
 * deleted.
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
  try {
    const info = await jsm.streams.info(work.name);
    if (info.config.storage !== storage || info.config.retention !== work.retention) {
      // The server cannot change a stream's storage or retention; a coordinator starts clean.
      await jsm.streams.delete(work.name);
      await jsm.streams.add(work);
    } else await jsm.streams.update(work.name, work);
  } catch (error) {
    if (!notFound(error)) throw error;
    await jsm.streams.add(work);
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
  try {
    await jsm.consumers.info(n.workStream, workers.durable_name);
    const { durable_name: _d, ...update } = workers;
    await jsm.consumers.update(n.workStream, workers.durable_name, update);
  } catch (error) {
    if (!notFound(error)) throw error;
    await jsm.consumers.add(n.workStream, workers);
  }
  await jsm.streams.purge(n.workStream);
  await deleteStream(jsm, legacyResultStream(n));
}

/** The result stream sluice 0.2 kept beside the work stream (its subject is now core NATS). */
function legacyResultStream(n: StageNames): string {
  return `${n.workStream}_RESULTS`;
}

async function deleteStream(jsm: JetStreamManager, name: string): Promise<void> {
  try {
    await jsm.streams.delete(name);
  } catch (error) {
    if (!notFound(error)) throw error;
  }
}

/** Deletes a stage's work stream (its consumer goes with it) and any 0.2 result stream. */
export async function removeStage(jsm: JetStreamManager, n: StageNames): Promise<void> {
  await deleteStream(jsm, n.workStream);
  await deleteStream(jsm, legacyResultStream(n));
}

export { notFound as isNotFound };
