/**
 * One client connection to the daemon: connect, the `hello` exchange, request/response by id,
 * and the switch to an attach stream. `SessionsClient` and `ClientAttachment` are built on it;
 * users do not need it directly.
 */
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { BINARY_PIECE_AT, encodeFrame, FrameDecoder, FrameError } from '../wire/frames.js';
import { parseResponse, parseStreamEvent } from '../wire/parse.js';
import { ownUid, peerCredentials } from '../wire/peer-credentials.js';
import {
  type ErrorCode,
  type HelloResult,
  PROTOCOL_VERSION,
  type RequestBody,
  type StreamCommand,
  type StreamEvent,
} from '../wire/protocol.js';
import { defaultSocketPath } from '../wire/socket-path.js';
import { unsafeFolderReason, unsafeSocketReason } from '../wire/socket-trust.js';
import {
  ConnectionClosedError,
  DaemonAccessError,
  DaemonNotRunningError,
  SessionsRequestError,
} from './errors.js';

/** Options for connecting to the daemon. */
export interface ConnectOptions {
  /**
   * The daemon's socket.
   * @default defaultSocketPath() ($SLUICE_SOCKET, else XDG_RUNTIME_DIR, else /tmp)
   */
  socketPath?: string;
  /**
   * How long connecting plus the `hello` exchange may take.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Names this client in the daemon's log.
   * @default 'sluice-client/<pid>'
   */
  clientName?: string;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  /** Runs synchronously when the success frame is dispatched, before later frames. */
  onOk?: (result: unknown) => void;
}

/** Data events at least this large are delivered in the pieces the socket reads them in. */
const SPLIT_DATA_ABOVE = 64 * 1024;

/** How a connection went away. */
export type CloseCause = { error?: Error };

/**
 * A framed connection. Requests resolve with the daemon's `result` or reject with
 * `SessionsRequestError`; every outstanding request rejects with `ConnectionClosedError` when the
 * connection ends. After `enterStream`, frames are stream events handed to the stream handler.
 */
export class Connection {
  readonly socket: Socket;
  readonly socketPath: string;
  hello: HelloResult | undefined;
  // Large data events are handed on piece by piece as they arrive (views of the socket's
  // chunks): no frame-sized copy of every byte, no frame-sized garbage.
  private readonly decoder = new FrameDecoder({ splitBinaryAbove: SPLIT_DATA_ABOVE });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedWith: CloseCause | undefined;
  private streamHandler: ((event: StreamEvent) => void) | undefined;
  private closeHandlers: ((cause: CloseCause) => void)[] = [];

  private constructor(socket: Socket, socketPath: string) {
    this.socket = socket;
    this.socketPath = socketPath;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.shut({ error: e }));
    socket.on('close', () => this.shut({}));
  }

  /**
   * Checks the socket, connects, checks the peer and exchanges `hello`. Nothing is sent before
   * the checks pass (see `trustSocketFile` and `trustPeer`). Rejects with
   * `DaemonNotRunningError` when nothing answers (with a hint to start the daemon),
   * `DaemonAccessError` when the socket, its folder or the process answering is not this user's,
   * and `SessionsRequestError('version')` when the daemon speaks another protocol version. On
   * failure nothing is left open.
   */
  static async open(options: ConnectOptions = {}): Promise<Connection> {
    const socketPath = options.socketPath ?? defaultSocketPath();
    const timeoutMs = options.timeoutMs ?? 5000;
    trustSocketFile(socketPath);
    const socket = await connectSocket(socketPath, timeoutMs);
    try {
      trustPeer(socket, socketPath);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    const conn = new Connection(socket, socketPath);
    const timer = setTimeout(
      () => conn.destroy(new ConnectionClosedError('the daemon did not answer hello in time')),
      timeoutMs,
    );
    try {
      conn.hello = (await conn.request({
        op: 'hello',
        version: PROTOCOL_VERSION,
        client: options.clientName ?? `sluice-client/${process.pid}`,
      })) as HelloResult;
    } catch (e) {
      conn.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Sends a request; resolves with its result. `onOk` runs synchronously on success. */
  request(body: RequestBody, onOk?: (result: unknown) => void): Promise<unknown> {
    if (this.closedWith) {
      return Promise.reject(this.closedWith.error ?? new ConnectionClosedError());
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onOk });
      this.socket.write(encodeFrame({ ...body, id }));
    });
  }

  /** From now on every frame is a stream event for `handler`. */
  enterStream(handler: (event: StreamEvent) => void): void {
    this.streamHandler = handler;
  }

  /** Sends one command on an attach stream. Returns the socket's `write` result. */
  sendCommand(command: StreamCommand): boolean {
    if (this.closedWith) throw this.closedWith.error ?? new ConnectionClosedError();
    return this.socket.write(encodeFrame(command));
  }

  /** Calls `fn` once when the connection ends (at once if it already has). */
  onClose(fn: (cause: CloseCause) => void): void {
    if (this.closedWith) fn(this.closedWith);
    else this.closeHandlers.push(fn);
  }

  /** Ends the connection gracefully (sends FIN) and resolves once the socket is closed. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      this.onClose(() => resolve());
      if (!this.socket.destroyed) this.socket.end();
    });
  }

  /** Destroys the socket at once; outstanding requests reject with `error` or a closed error. */
  destroy(error?: Error): void {
    this.shut({ error });
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let values: unknown[];
    let bad: Error | undefined;
    try {
      values = this.decoder.push(chunk);
    } catch (e) {
      values = e instanceof FrameError ? e.values : [];
      bad = new ConnectionClosedError(`bad frame from the daemon: ${(e as Error).message}`);
    }
    for (const value of values) {
      if (this.closedWith) return;
      try {
        this.dispatch(value);
      } catch (e) {
        this.destroy(e instanceof Error ? e : new Error(String(e)));
        return;
      }
    }
    if (bad) this.destroy(bad);
  }

  private dispatch(value: unknown): void {
    const pieceAt =
      value !== null && typeof value === 'object'
        ? (value as { [BINARY_PIECE_AT]?: number })[BINARY_PIECE_AT]
        : undefined;
    if (pieceAt !== undefined) {
      // One piece of a data event: it starts `pieceAt` bytes into the event's output.
      const v = value as { offset?: unknown };
      if (typeof v.offset === 'number') v.offset += pieceAt;
    }
    if (this.streamHandler) {
      this.streamHandler(parseStreamEvent(value));
      return;
    }
    const response = parseResponse(value);
    const p = this.pending.get(response.id);
    if (!p) {
      // An error with id 0 is the daemon refusing the connection as a whole.
      if (!response.ok) {
        this.destroy(new SessionsRequestError(response.error.code, response.error.message));
        return;
      }
      throw new ConnectionClosedError(`the daemon answered unknown request ${response.id}`);
    }
    this.pending.delete(response.id);
    if (response.ok) {
      p.onOk?.(response.result);
      p.resolve(response.result);
    } else {
      p.reject(new SessionsRequestError(response.error.code as ErrorCode, response.error.message));
    }
  }

  private shut(cause: CloseCause): void {
    if (this.closedWith) return;
    this.closedWith = cause;
    const error = cause.error ?? new ConnectionClosedError();
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) h(cause);
  }
}

/** Connects to `socketPath`; rejects with the typed error for why it could not. */
function connectSocket(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      const cause = new Error(`no answer within ${timeoutMs} ms`);
      reject(new DaemonNotRunningError(socketPath, cause, startHint(socketPath)));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (e.code === 'EACCES' || e.code === 'EPERM') {
        reject(
          new DaemonAccessError(socketPath, "permission denied (another user's daemon?)", {
            cause: e,
          }),
        );
      } else if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTDIR') {
        reject(new DaemonNotRunningError(socketPath, e, startHint(socketPath)));
      } else {
        reject(
          new ConnectionClosedError(`cannot connect to ${socketPath}: ${e.message}`, {
            cause: e,
          }),
        );
      }
    });
  });
}

/**
 * Refuses, before anything is sent, a socket file or folder another user could have made or
 * could swap: the socket must be this user's and not writable by others, and so must its folder
 * (see socket-trust.ts). Throws `DaemonAccessError` saying what was wrong. A missing socket or
 * folder is left to `connect`, which reports no daemon.
 */
function trustSocketFile(socketPath: string): void {
  const uid = ownUid();
  const socketReason = unsafeSocketReason(socketPath, uid);
  if (socketReason) throw new DaemonAccessError(socketPath, socketReason);
  const dir = dirname(socketPath);
  const folderReason = unsafeFolderReason(dir, uid);
  if (folderReason && !/ENOENT|ENOTDIR/.test(folderReason)) {
    throw new DaemonAccessError(socketPath, folderReason);
  }
}

/**
 * Refuses a peer that runs as another user, by the kernel's account of it (`SO_PEERCRED`):
 * even a socket file that passed `trustSocketFile` could have been swapped in between. Throws
 * `DaemonAccessError`. Where the credentials cannot be read, the file checks stand alone.
 */
function trustPeer(socket: Socket, socketPath: string): void {
  const peer = peerCredentials(socket);
  const uid = ownUid();
  if (peer && peer.uid !== uid) {
    throw new DaemonAccessError(
      socketPath,
      `the process answering (pid ${peer.pid}) runs as uid ${peer.uid}, not as this user (uid ${uid})`,
    );
  }
}

/** The hint shown when no daemon answers: how to start one for this socket. */
export function startHint(socketPath: string): string {
  return socketPath === defaultSocketPath()
    ? 'start one with `sluice daemon`'
    : `start one with \`sluice daemon --socket ${socketPath}\``;
}
