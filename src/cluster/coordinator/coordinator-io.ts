/**
 * The coordinator's conversations with the server, apart from its bookkeeping and its results
 * (see result-listener.ts): storing an item (retried until stored, refused or timed out), hearing
 * the workers' stats, and noticing a server that stays away.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';
import { ClusterUnavailableError } from '../errors.js';
import type { StageNames } from '../wire/names.js';
import { isNotFound } from '../wire/setup.js';
import { msgpackDecode, sleep } from '../wire/util.js';
import { asReport, type WorkerBoard } from '../wire/worker-stats.js';

/** How `publishItem` gives up. */
export interface PublishLimits {
  /** performance.now() after which a failing publish rejects with ClusterUnavailableError. */
  deadline: number;
  /** What the deadline was, for the message. */
  timeoutMs: number;
  /** Aborting it rejects with its reason. */
  signal: AbortSignal | undefined;
  /** Checked before every attempt: a value returned is thrown (the stage failed meanwhile). */
  failure: () => unknown;
}

/**
 * Stores one item in the work stream, retrying (5 ms backoff doubling to 250 ms) while the
 * server is away or the stream is full. A full stream is waited on without a deadline (it is
 * backpressure: only the signal ends that wait); any other failure past `deadline`, or a closed
 * connection, rejects with `ClusterUnavailableError`. `Nats-Msg-Id` is `id`, so a retry of a
 * publish that was stored after all is stored once.
 */
export async function publishItem(
  nc: NatsConnection,
  js: JetStreamClient,
  subject: string,
  body: Uint8Array,
  id: string,
  headers: MsgHdrs,
  limits: PublishLimits,
): Promise<number> {
  let backoff = 5;
  for (;;) {
    const failed = limits.failure();
    if (failed !== undefined) throw failed;
    try {
      const timeout = Math.max(100, Math.min(5000, limits.deadline - performance.now()));
      const ack = await js.publish(subject, body, { msgID: id, headers, timeout });
      return ack.seq;
    } catch (error) {
      if (limits.signal?.aborted) throw limits.signal.reason;
      const full = /maximum messages/i.test(String((error as Error).message));
      if (!full && performance.now() >= limits.deadline) {
        throw new ClusterUnavailableError(`could not store an item for ${limits.timeoutMs} ms`, {
          cause: error,
        });
      }
      if (nc.isClosed()) {
        throw new ClusterUnavailableError('the NATS connection was closed', { cause: error });
      }
      await sleep(backoff, limits.signal);
      backoff = Math.min(backoff * 2, 250);
    }
  }
}

/** Feeds every worker report heard on the stage's stats subject to `board`. */
export function subscribeWorkerStats(
  nc: NatsConnection,
  names: StageNames,
  board: WorkerBoard,
): Subscription {
  return nc.subscribe(names.statsSubject, {
    callback: (error, msg) => {
      if (error) return;
      try {
        const report = asReport(msgpackDecode(msg.data));
        if (report) board.update(report);
      } catch {
        // Not a report: ignore it.
      }
    },
  });
}

/**
 * Calls `onUnavailable` once when the connection has been down for more than `timeoutMs`, or is
 * closed for good, and `onReconnect` (when given) each time it came back after a break. Returns
 * the way to stop watching.
 */
export function watchConnection(
  nc: NatsConnection,
  timeoutMs: number,
  onUnavailable: (error: ClusterUnavailableError) => void,
  onReconnect?: () => void,
): () => void {
  let downSince: number | undefined;
  let stopped = false;
  const fire = (error: ClusterUnavailableError) => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    onUnavailable(error);
  };
  const events = nc.status();
  void (async () => {
    for await (const s of events) {
      if (s.type === 'disconnect') downSince ??= performance.now();
      else if (s.type === 'reconnect') {
        downSince = undefined;
        if (!stopped) onReconnect?.();
      }
    }
  })().catch(() => {});
  void nc.closed().then(() => fire(new ClusterUnavailableError('the NATS connection was closed')));
  const timer = setInterval(
    () => {
      if (downSince !== undefined && performance.now() - downSince > timeoutMs) {
        fire(
          new ClusterUnavailableError(
            `the NATS server was unreachable for more than ${timeoutMs} ms`,
          ),
        );
      }
    },
    Math.min(250, timeoutMs),
  );
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    // Each status() is a listener of its own: end it, or it lives as long as the connection.
    (events as { stop?: () => void }).stop?.();
  };
}

/**
 * For a stage with `storage: 'memory'`, after a break: a server that restarted lost the stage's
 * items (its work stream is gone, or begins again below `lastStoredSeq`, the highest
 * sequence an item was stored at). Their results would never come, so the stage must fail rather
 * than wait forever: returns the error to fail it with, or undefined when nothing was lost (or
 * the server is away again: the next reconnect checks).
 */
export async function storeLost(
  jsm: JetStreamManager,
  workStream: string,
  lastStoredSeq: number,
): Promise<ClusterUnavailableError | undefined> {
  let lost: boolean;
  try {
    const info = await jsm.streams.info(workStream);
    lost = info.state.last_seq < lastStoredSeq;
  } catch (error) {
    if (!isNotFound(error)) return undefined;
    lost = true;
  }
  return lost
    ? new ClusterUnavailableError(
        "the NATS server restarted and lost the stage's items and results (storage: 'memory')",
      )
    : undefined;
}
