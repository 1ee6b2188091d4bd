/**
 * `connect` and `Cluster`: one NATS connection for one pipeline name, from which a coordinator
 * makes stages and a worker serves them.
 */
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type NodeConnectionOptions, connect as natsConnect } from '@nats-io/transport-node';
import { InvalidOptionError } from '../proc/index.js';
import { ClusterStage, type ClusterStageOptions } from './coordinator/stage.js';
import { ClusterClosedError, ClusterUnavailableError } from './errors.js';
import { checkName, JS_API_PREFIX, stageNames } from './wire/names.js';
import { removeStage } from './wire/setup.js';
import { type ClusterFn, type ServeOptions, Server, type StageServer } from './worker/serve.js';

/**
 * Options of {@link connect}: the pipeline `name`, the `servers`, and any option of the NATS
 * Node client (`@nats-io/transport-node`), passed through as they are: credentials (`user` and
 * `pass`, `token`, `authenticator` for NKeys or JWT credentials), `tls` (`caFile`, `certFile`,
 * `keyFile` or their PEM text `ca`, `cert`, `key`; `rejectUnauthorized`, `handshakeFirst`),
 * timeouts and reconnect settings.
 */
export interface ConnectOptions extends Omit<NodeConnectionOptions, 'name' | 'servers'> {
  /** One or more server URLs (`nats://host:4222`, `tls://…`). */
  servers: string | string[];
  /**
   * The pipeline name: stages of one pipeline share it (coordinator and workers must agree).
   * Letters, digits and `-`.
   */
  name: string;
  /** The NATS connection name shown by the server's monitoring. @default `sluice:<name>` */
  connectionName?: string;
  /** Reconnect attempts after a lost connection; -1 is forever. @default -1 */
  maxReconnectAttempts?: number;
  /** Wait between reconnect attempts. @default 500 */
  reconnectTimeWait?: number;
  /**
   * The NATS client's option to skip capturing the caller's stack for every request (each item
   * stored and each result published is one); sluice's errors say what failed either way.
   * @default true
   */
  noAsyncTraces?: boolean;
}

/**
 * A connection to a NATS JetStream server for one pipeline. Owns the stages it made and the
 * servers it started: `close()` (or `await using`) stops them, then closes the connection.
 */
export class Cluster implements AsyncDisposable {
  /** The pipeline name. */
  readonly name: string;
  /** The underlying NATS connection, for what sluice does not wrap (use with care). */
  readonly connection: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stages = new Set<AsyncDisposable>();
  readonly #servers = new Set<StageServer>();
  #closing: Promise<void> | undefined;

  /** @internal Use `connect`. */
  constructor(name: string, nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager) {
    this.name = name;
    this.connection = nc;
    this.#js = js;
    this.#jsm = jsm;
  }

  #open(): void {
    if (this.#closing !== undefined || this.connection.isClosed())
      throw new ClusterClosedError('the cluster connection');
  }

  /**
   * Creates the stage's JetStream objects (or takes them over, starting clean: items and results
   * left by an earlier coordinator of the same pipeline and stage are dropped) and returns its
   * coordinator. Rejects with `InvalidOptionError` for a bad name or option (nothing created).
   * One coordinator per pipeline and stage at a time.
   *
   * @example
   * ```ts
   * const resize = await cluster.stage<In, Out>('resize', { capacity: 10_000, maxWIP: 64 });
   * ```
   */
  async stage<T, R>(stage: string, options?: ClusterStageOptions): Promise<ClusterStage<T, R>> {
    this.#open();
    const s = await ClusterStage.create<T, R>(
      {
        pipeline: this.name,
        nc: this.connection,
        js: this.#js,
        jsm: this.#jsm,
        forget: (x) => this.#stages.delete(x),
      },
      stage,
      options,
    );
    this.#stages.add(s);
    return s;
  }

  /**
   * Serves `stage` with `fn` in this process, `options.workers` items at a time. The stage need
   * not exist yet (the server waits for the coordinator to create it), and servers may come and
   * go at any time. `fn` may run more than once for one item (after a worker died or stopped
   * answering): make its side effects idempotent. Throws `InvalidOptionError` for bad input.
   *
   * @example
   * ```ts
   * await using worker = await cluster.serve<In, Out>('resize', (item, signal) => resize(item), {
   *   workers: 4,
   * });
   * ```
   */
  async serve<T, R>(
    stage: string,
    fn: ClusterFn<T, R>,
    options?: ServeOptions,
  ): Promise<StageServer> {
    this.#open();
    const server = new Server<T, R>(
      {
        pipeline: this.name,
        nc: this.connection,
        js: this.#js,
        forget: (x) => this.#servers.delete(x),
      },
      stage,
      fn,
      options,
    );
    this.#servers.add(server);
    return server;
  }

  /**
   * Deletes a stage's work stream and its consumer from the server (after `wait()` the stream is
   * empty but still there), and a result stream sluice 0.2 left. Missing ones are fine.
   */
  async removeStage(stage: string): Promise<void> {
    this.#open();
    await removeStage(this.#jsm, stageNames(this.name, checkName('stage', stage)));
  }

  /**
   * Stops every server this cluster started (gracefully) and disposes every stage it made (a
   * stage not finished is canceled), then drains and closes the connection. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#servers].map((s) => s.stop()));
      await Promise.all([...this.#stages].map((s) => s[Symbol.asyncDispose]()));
      if (!this.connection.isClosed()) {
        // Drain flushes what is pending; a connection whose server is gone cannot drain, so
        // give it a moment and then close it outright.
        const drained = this.connection.drain().catch(() => {});
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          drained,
          new Promise<void>((r) => {
            timer = setTimeout(r, 2000);
          }),
        ]);
        clearTimeout(timer);
        if (!this.connection.isClosed()) await this.connection.close();
      }
      await this.connection.closed();
    })();
    return this.#closing;
  }

  /** The same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Connects to a NATS server with JetStream enabled for the pipeline `name`. Rejects with
 * `InvalidOptionError` for a bad name or servers, and with `ClusterUnavailableError` when no
 * server can be reached (or JetStream is not enabled there). The caller owns the `Cluster`:
 * `close()` it or `await using` it.
 *
 * @example
 * ```ts
 * import { connect } from 'sluice/cluster';
 * await using cluster = await connect({ servers: 'nats://127.0.0.1:4222', name: 'thumbnails' });
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Cluster> {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('options', 'must be an object');
  const { name, connectionName, servers, ...nats } = options;
  checkName('name', name);
  const list = typeof servers === 'string' ? [servers] : servers;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((s) => typeof s === 'string' && s !== '')
  ) {
    throw new InvalidOptionError('servers', 'must be a server URL or a non-empty array of them');
  }
  let nc: NatsConnection;
  try {
    nc = await natsConnect({
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Every item and result is a request to JetStream: capturing a stack for each costs more
      // than the rest of the client's work for it.
      noAsyncTraces: true,
      ...nats,
      servers: list,
      name: connectionName ?? `sluice:${name}`,
    });
  } catch (error) {
    throw new ClusterUnavailableError(
      `cannot connect to ${list.join(', ')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const jsm = await jetstreamManager(nc, { apiPrefix: JS_API_PREFIX });
    return new Cluster(name, nc, jetstream(nc, { apiPrefix: JS_API_PREFIX }), jsm);
  } catch (error) {
    await nc.close();
    throw new ClusterUnavailableError(
      `JetStream is not available at ${list.join(', ')} (start nats-server with -js)`,
      { cause: error },
    );
  }
}
