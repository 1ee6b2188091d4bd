/**
 * sluice/cluster's typed errors. Every error the cluster part raises is a `ClusterError` (a
 * `SluiceError` with a stable `ERR_SLUICE_CLUSTER_*` code), except bad options, which are
 * `InvalidOptionError`s as in every part of sluice.
 */
import { SluiceError } from '../proc/index.js';

/** Base class of every error sluice/cluster raises itself (codes `ERR_SLUICE_CLUSTER_*`). */
export class ClusterError extends SluiceError {}

/**
 * An item (or a result) whose encoded size is above the server's `max_payload` (1 MiB by
 * default). `submit` rejects with it before anything is sent, so nothing is left behind; a worker
 * whose result is too large sends this error as the item's result instead. Code
 * `ERR_SLUICE_CLUSTER_PAYLOAD_TOO_LARGE`.
 */
export class PayloadTooLargeError extends ClusterError {
  /** The encoded size in bytes. */
  readonly bytes: number;
  /** The server's limit in bytes. */
  readonly maxPayload: number;
  constructor(what: string, bytes: number, maxPayload: number) {
    super(
      'ERR_SLUICE_CLUSTER_PAYLOAD_TOO_LARGE',
      `sluice/cluster: ${what} is ${bytes} bytes encoded, above the server's max payload of ${maxPayload} bytes (store large data elsewhere and send a reference)`,
    );
    this.bytes = bytes;
    this.maxPayload = maxPayload;
  }
}

/**
 * The NATS server could not be reached for longer than the stage's `unavailableTimeoutMs`
 * (30 s by default), or the connection was closed for good. A `submit` waiting to publish rejects
 * with it; items still awaiting results get it as their (failed) result. Code
 * `ERR_SLUICE_CLUSTER_UNAVAILABLE`.
 */
export class ClusterUnavailableError extends ClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SLUICE_CLUSTER_UNAVAILABLE', `sluice/cluster: ${message}`, options);
  }
}

/**
 * The result of an item that was delivered `maxDeliver` times without ever being acknowledged
 * (every worker that took it died or stopped answering): it is taken off the stream and reported
 * as this failed result instead of being tried forever. Code `ERR_SLUICE_CLUSTER_DEAD_LETTER`.
 */
export class DeadLetterError extends ClusterError {
  /** How many times the item was delivered. */
  readonly deliveries: number;
  constructor(deliveries: number) {
    super(
      'ERR_SLUICE_CLUSTER_DEAD_LETTER',
      `sluice/cluster: item dead-lettered after ${deliveries} deliveries without an answer (a poison item, or no worker stays up long enough)`,
    );
    this.deliveries = deliveries;
  }
}

/**
 * What a worker's `fn` threw, carried back to the coordinator: `name`, `message` and `code` are
 * the original error's (`code` is `ERR_SLUICE_CLUSTER_REMOTE` when it had none), `remoteStack` its
 * stack on the worker, `worker` the worker that ran it. A non-Error throw arrives as a
 * RemoteError named `PanicError` with code `ERR_SLUICE_PANIC` and counts in `Stats.panicked`.
 */
export class RemoteError extends ClusterError {
  /** The worker id (`host:pid:n`) that ran the item. */
  readonly worker: string;
  /** The error's stack on the worker, when it had one. */
  readonly remoteStack: string | undefined;
  constructor(
    fields: {
      name: string;
      message: string;
      code?: string | undefined;
      stack?: string | undefined;
    },
    worker: string,
  ) {
    super(fields.code ?? 'ERR_SLUICE_CLUSTER_REMOTE', fields.message);
    this.name = fields.name;
    this.worker = worker;
    this.remoteStack = fields.stack;
  }
}

/**
 * A payload that the codec could not decode (a producer using another codec, or corrupt bytes).
 * Code `ERR_SLUICE_CLUSTER_DECODE`.
 */
export class DecodeError extends ClusterError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('ERR_SLUICE_CLUSTER_DECODE', `sluice/cluster: cannot decode ${what}`, options);
  }
}

/**
 * `startNatsServer` could not start `nats-server`: the binary is missing (the message says how
 * to install it), or it exited or never accepted connections. Code
 * `ERR_SLUICE_CLUSTER_NATS_SERVER`.
 */
export class NatsServerError extends ClusterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SLUICE_CLUSTER_NATS_SERVER', message, options);
  }
}

/**
 * An operation on a stage, a server or a cluster connection that was already closed. Code
 * `ERR_SLUICE_CLUSTER_CLOSED`.
 */
export class ClusterClosedError extends ClusterError {
  constructor(what: string) {
    super('ERR_SLUICE_CLUSTER_CLOSED', `sluice/cluster: ${what} is closed`);
  }
}
