/**
 * The typed, promise-based client of the sessions daemon. It speaks the library's verbs:
 * `spawn`, `list`, `get`, `snapshot`, `writeStdin`, `resize`, `terminate`, `remove`,
 * `purgeExited`, `attach`, each taking the session id first.
 */

import type { Topology } from '../../flow/index.js';
import type { ExitInfo } from '../../proc/index.js';
import type {
  AttachResult,
  DashboardResult,
  HelloResult,
  LogsResult,
  Op,
  PurgeResult,
  RemoveResult,
  RequestBody,
  ResultMap,
  SendResult,
  SpawnRequest,
  StopResult,
  StreamEvent,
  StreamName,
  WireSessionInfo,
} from '../wire/protocol.js';
import { ClientAttachment } from './attachment.js';
import { Connection, type ConnectOptions } from './connection.js';
import { SessionsRequestError } from './errors.js';
import { FlowPublisher, type PublishFlowOptions } from './flow-publisher.js';

export type { ConnectOptions } from './connection.js';

/**
 * What `spawn` takes: the protocol's spawn request without its framing (`argv`, `cwd` — default
 * the daemon's; the CLI passes its own —, `env` laid over the daemon's, `originator`,
 * `mergeStderr`, and `pty` for a PTY session of that size).
 */
export type ClientSpawnOptions = Omit<SpawnRequest, 'id' | 'op'>;

/** What `attach` takes. */
export interface ClientAttachOptions {
  /**
   * The stream to attach to (a PTY session has only `stdout`).
   * @default 'stdout'
   */
  stream?: StreamName;
  /**
   * Take the writer seat from whoever holds it.
   * @default false
   */
  steal?: boolean;
  /**
   * Watch only: no input, no resize; any number of viewers may watch beside the writer.
   * @default false
   */
  readOnly?: boolean;
  /**
   * This terminal's size, applied to a PTY session before its backlog is sent.
   * @default undefined (the PTY keeps its size)
   */
  size?: {
    /** Height in character cells; a positive integer. */
    rows: number;
    /** Width in character cells; a positive integer. */
    cols: number;
  };
  /**
   * Replay from this absolute offset (a previous attachment's `position`).
   * @default the oldest byte the ring keeps
   */
  fromOffset?: number;
  /**
   * A PTY session with a screen: replay the raw ring instead of a drawing of the screen (the
   * default, see `ClientAttachment.screen`).
   * @default false
   */
  raw?: boolean;
  /**
   * Never skip output: while this client is a full queue behind, the daemon stops reading the
   * session's program, which then blocks on its pipe or terminal (as with a slow reader on a
   * plain pipe), and no `missed` event is ever sent for live output. The program, its backlog
   * and every other client of the stream then go at this client's pace: use it for a consumer
   * that must see every byte (a log shipper, a test), not for a casual viewer.
   * @default false (a client that falls behind has output skipped for it, counted in `missed`)
   */
  lossless?: boolean;
  /**
   * Connect timeout for the attach connection.
   * @default the client's `timeoutMs`
   */
  timeoutMs?: number;
}

/**
 * A connection to the daemon for requests. Methods may run concurrently; each resolves with the
 * daemon's answer or rejects with `SessionsRequestError` (whose `wireCode` is the protocol's
 * error code) or `ConnectionClosedError`. `attach` opens a connection of its own, so an
 * attachment outlives nothing but itself. Call `close()` (or use `await using`) when done: the
 * open connection keeps Node running.
 *
 * @example
 * ```ts
 * await using client = await SessionsClient.connect();       // $SLUICE_SOCKET, XDG, /tmp
 * const s = await client.spawn({ argv: ['make', 'test'], originator: 'ci' });
 * await using a = await client.attach(s.id);                 // backlog, then live output
 * process.stdout.write(a.backlog);
 * for await (const ev of a) if (ev.type === 'output') process.stdout.write(ev.data);
 * ```
 */
export class SessionsClient {
  private readonly conn: Connection;
  private readonly options: ConnectOptions;

  private constructor(conn: Connection, options: ConnectOptions) {
    this.conn = conn;
    this.options = options;
  }

  /**
   * Checks the socket (see docs/security.md), connects and exchanges versions; nothing is sent
   * before the checks pass. Rejects with `DaemonNotRunningError` (its message carries a hint to
   * start the daemon), `DaemonAccessError` (the socket, its folder or the daemon's process is not
   * this user's), `SessionsRequestError` `busy` (the daemon is at its connection limit) or
   * `version`. Nothing is left open on failure; on success the caller must `close()` the client.
   *
   * @example
   * ```ts
   * await using client = await SessionsClient.connect();
   * console.log((await client.list()).length);
   * ```
   */
  static async connect(options: ConnectOptions = {}): Promise<SessionsClient> {
    const conn = await Connection.open(options);
    return new SessionsClient(conn, { ...options, socketPath: conn.socketPath });
  }

  /** The socket this client is connected to. */
  get socketPath(): string {
    return this.conn.socketPath;
  }

  /** What the daemon said in the `hello` exchange: its protocol version, pid and package version. */
  get daemon(): HelloResult {
    return this.conn.hello!;
  }

  /** Sends any request and resolves with its typed result. */
  request<O extends Op>(body: Extract<RequestBody, { op: O }>): Promise<ResultMap[O]> {
    return this.conn.request(body) as Promise<ResultMap[O]>;
  }

  /** Starts a session; resolves with it as listed. Rejects `spawn-failed` or `invalid`. */
  spawn(options: ClientSpawnOptions): Promise<WireSessionInfo> {
    return this.request({ op: 'spawn', ...options });
  }

  /** Every session, in creation order; with `originator`, only that originator's. */
  list(filter: { originator?: string } = {}): Promise<WireSessionInfo[]> {
    return this.request({ op: 'list', originator: filter.originator });
  }

  /** One session. Rejects `not-found`. */
  get(id: string): Promise<WireSessionInfo> {
    return this.request({ op: 'get', session: id });
  }

  /**
   * A copy of one stream's backlog (default `stdout`), as `Session.snapshot`: never consumes;
   * `missedBytes` were dropped from the ring before it. Rejects `not-found`, or `invalid` for a
   * stream the session does not have.
   */
  async snapshot(
    id: string,
    options: { stream?: StreamName; text?: boolean } = {},
  ): Promise<{
    /** The ring's contents, or the screen as text when `text` is true. */
    data: Buffer;
    /** Bytes dropped from the front of the ring since the session started. */
    missedBytes: number;
    /** Whether `data` is the screen rendered as text (asked for, and the session has a screen). */
    text: boolean;
  }> {
    const r: LogsResult = await this.request({
      op: 'logs',
      session: id,
      stream: options.stream,
      text: options.text,
    });
    return {
      data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
      missedBytes: r.missedBytes,
      text: r.text === true,
    };
  }

  /** @deprecated Renamed `snapshot`, the library's name. */
  logs(id: string, options: { stream?: StreamName } = {}) {
    return this.snapshot(id, options);
  }

  /**
   * Writes to the session's stdin (or PTY), as `Session.writeStdin`: with `{ close: true }`
   * closes stdin after. Resolves with the byte count once the daemon has handed the bytes to the
   * child; an empty write without `close` resolves with 0. Rejects `stdin-closed` or `exited`.
   * Data over 1 MiB is sent in several requests, in order.
   */
  async writeStdin(
    id: string,
    data: string | Uint8Array,
    options: { close?: boolean } = {},
  ): Promise<number> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const piece = 1024 * 1024;
    let written = 0;
    for (let at = 0; at < bytes.byteLength || at === 0; at += piece) {
      const chunk = bytes.subarray(at, at + piece);
      const last = at + piece >= bytes.byteLength;
      const r: SendResult = await this.request({
        op: 'send',
        session: id,
        data: chunk,
        eof: last && options.close === true ? true : undefined,
      });
      written += r.bytesWritten;
      if (last) break;
    }
    return written;
  }

  /** @deprecated Renamed `writeStdin(id, data, { close })`, the library's name. */
  send(id: string, data: string | Uint8Array = '', options: { eof?: boolean } = {}) {
    return this.writeStdin(id, data, { close: options.eof === true });
  }

  /** Resizes a PTY session. Rejects `unsupported` for a pipe session. */
  async resize(id: string, rows: number, cols: number): Promise<void> {
    await this.request({ op: 'resize', session: id, rows, cols });
  }

  /**
   * Stops a session as `Session.terminate` does: the soft signal to its process group (SIGTERM;
   * SIGHUP for a PTY), then SIGKILL after `graceMs` (default 5000; 0 kills at once). Resolves
   * once it has exited, with how (`ExitInfo`); a session that had already exited resolves with
   * its recorded exit. Rejects `not-found`.
   */
  async terminate(id: string, options: { graceMs?: number } = {}): Promise<ExitInfo> {
    const session = await this.stop(id, { graceMs: options.graceMs, wait: true });
    if (!session.exitInfo) {
      throw new SessionsRequestError('internal', `session ${id} was not reported as exited`);
    }
    return session.exitInfo;
  }

  /**
   * @deprecated Use `terminate` (which waits for the exit and resolves with its `ExitInfo`).
   * Without `wait` this resolves at once with the session as it is; with `wait`, once exited.
   */
  async stop(
    id: string,
    options: { graceMs?: number; wait?: boolean } = {},
  ): Promise<WireSessionInfo> {
    const r: StopResult = await this.request({
      op: 'stop',
      session: id,
      graceMs: options.graceMs,
      wait: options.wait,
    });
    return r.session;
  }

  /** Removes an exited session (with `force`, stops a running one first). Rejects `running`. */
  async remove(id: string, options: { force?: boolean } = {}): Promise<string> {
    const r: RemoveResult = await this.request({ op: 'remove', session: id, force: options.force });
    return r.removed;
  }

  /**
   * Removes every exited session (of `originator` only, when given), as
   * `SessionRegistry.purgeExited`; resolves with their ids, oldest first.
   */
  async purgeExited(originator?: string): Promise<string[]> {
    const r: PurgeResult = await this.request({ op: 'purge', originator });
    return r.removed;
  }

  /** @deprecated Renamed `purgeExited(originator)`, the library's name. */
  purge(filter: { originator?: string } = {}): Promise<string[]> {
    return this.purgeExited(filter.originator);
  }

  /** Round trip to the daemon. */
  async ping(): Promise<void> {
    await this.request({ op: 'ping' });
  }

  /** Asks the daemon to stop every session and exit (as SIGTERM does). */
  async shutdown(): Promise<void> {
    await this.request({ op: 'shutdown' });
  }

  /**
   * Publishes a flow to the daemon's dashboard and `/metrics` (docs/dashboard.md): its stage
   * graph, its drum and every stage's stats, now and then every `intervalMs`. Resolves once the
   * first sample was accepted; stop with `stop()` or `await using`. Throws `InvalidOptionError`
   * for a bad name, interval, topology (not frozen, over 256 stages) or drum. Sends go over this
   * client's connection, so close the publisher before the client. A daemon without `--http`
   * accepts the samples and shows nothing.
   *
   * @example
   * ```ts
   * await using published = await client.publishFlow('import', topology, { drum: 'store' });
   * ```
   */
  publishFlow(
    name: string,
    topology: Topology,
    options: PublishFlowOptions = {},
  ): Promise<FlowPublisher> {
    return FlowPublisher.start(name, topology, options, {
      publish: (flow) => this.request({ op: 'publishFlow', flow }),
      unpublish: (flowName) => this.request({ op: 'unpublishFlow', name: flowName }),
    });
  }

  /** The dashboard's address and token; all null when the daemon runs without `--http`. */
  dashboard(): Promise<DashboardResult> {
    return this.request({ op: 'dashboard' });
  }

  /**
   * Attaches to one stream of a session over a new connection. Resolves once the backlog has
   * arrived (see `ClientAttachment`). Rejects `already-attached` when another client is the
   * writer and neither `steal` nor `readOnly` was asked, `not-found`, or `invalid` for a stream
   * the session does not have.
   */
  async attach(id: string, options: ClientAttachOptions = {}): Promise<ClientAttachment> {
    const conn = await Connection.open({
      ...this.options,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
    });
    return attachOver(conn, id, options);
  }

  /** Closes the request connection; outstanding requests reject with `ConnectionClosedError`. */
  async close(): Promise<void> {
    await this.conn.end();
  }

  /** `await using`: the same as `close()`. Attachments have their own connections. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Sends `attach` on `conn` and gathers the backlog. On any failure `conn` is destroyed. */
async function attachOver(
  conn: Connection,
  id: string,
  options: ClientAttachOptions,
): Promise<ClientAttachment> {
  let attachment: ClientAttachment | undefined;
  let result: AttachResult | undefined;
  const early: StreamEvent[] = [];
  // The backlog (a screen drawing first, when there is one) is copied into one buffer of the
  // size the answer announced as its pieces arrive, rather than joined after the last one.
  let backlog = Buffer.alloc(0);
  let backlogAt = 0;
  let backlogLeft = 0;
  let backlogDone: (() => void) | undefined;
  const backlogReady = new Promise<void>((r) => {
    backlogDone = r;
  });

  const onEvent = (event: StreamEvent) => {
    if (attachment) {
      attachment.push(event);
      return;
    }
    if (event.ev === 'data' && backlogLeft > 0) {
      const data = event.data;
      if (backlogAt + data.byteLength > backlog.length) {
        // More than announced (never from a sluice daemon): keep every byte all the same.
        backlog = Buffer.concat([backlog.subarray(0, backlogAt), data]);
      } else backlog.set(data, backlogAt);
      backlogAt += data.byteLength;
      backlogLeft -= data.byteLength;
      if (backlogLeft <= 0) backlogDone?.();
      return;
    }
    early.push(event);
    if (event.ev === 'end') backlogDone?.();
  };

  try {
    result = (await conn.request(
      {
        op: 'attach',
        session: id,
        stream: options.stream,
        steal: options.steal,
        readOnly: options.readOnly,
        rows: options.size?.rows,
        cols: options.size?.cols,
        fromOffset: options.fromOffset,
        raw: options.raw,
        lossless: options.lossless,
      },
      (r) => {
        // Runs before the frames that follow the answer are dispatched: they are the backlog.
        backlogLeft = (r as AttachResult).backlogBytes;
        // (At most 64 MiB up front: past that, whatever arrives is appended.)
        if (backlogLeft > 0) backlog = Buffer.allocUnsafe(Math.min(backlogLeft, 64 * 1024 * 1024));
        if (backlogLeft === 0) backlogDone?.();
        conn.enterStream(onEvent);
      },
    )) as AttachResult;
  } catch (e) {
    conn.destroy();
    throw e;
  }
  if (result.backlogBytes > 0) {
    const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
    await Promise.race([backlogReady, closed]);
  }
  const all = backlog.subarray(0, backlogAt);
  const screenBytes = Math.min(result.screenBytes ?? 0, all.length);
  attachment = new ClientAttachment(
    conn,
    result,
    all.subarray(screenBytes),
    all.subarray(0, screenBytes),
  );
  conn.onClose((cause) => attachment!.closed(cause.error));
  for (const event of early) attachment.push(event);
  return attachment;
}

/**
 * Whether `error` is the daemon answering with the protocol error code `code` (`'not-found'`,
 * …; any code when omitted).
 */
export function isRequestError(error: unknown, code?: string): error is SessionsRequestError {
  return error instanceof SessionsRequestError && (code === undefined || error.wireCode === code);
}
