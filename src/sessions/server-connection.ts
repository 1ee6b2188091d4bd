/**
 * One client connection inside the daemon: framing, the `hello` gate, request dispatch with
 * answers by id, the switch to an attach stream, and flow control in both directions.
 *
 * Nothing a client sends can crash the daemon: a frame that cannot be decoded (or is over 4 MiB)
 * gets one `bad-frame` error reply and the connection is closed; a well-framed message of the
 * wrong shape gets a `protocol` error (and the connection is closed when the message had no
 * usable id or came before `hello`); a handler's unexpected exception becomes an `internal`
 * error reply. The connection stops reading while more than `WRITE_HIGH_WATER` bytes of its
 * answers wait to be sent, so a client that never reads cannot grow the daemon's memory.
 */
import type { Socket } from 'node:net';
import { encodeBinaryFrame, encodeFrame, FrameDecoder, FrameError } from './frames.js';
import {
  type ErrorCode,
  PROTOCOL_VERSION,
  type ProtocolError,
  parseRequest,
  parseStreamCommand,
  type Request,
  type StreamCommand,
  type StreamEvent,
} from './protocol.js';

/** Answers beyond this many unsent bytes pause reading from the client. */
const WRITE_HIGH_WATER = 8 * 1024 * 1024;
/** How long a closing connection may take to flush its last reply before it is destroyed. */
const CLOSE_FLUSH_MS = 1000;

/** An error a handler throws to answer with a specific code. */
export class RequestFailure extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'RequestFailure';
    this.code = code;
  }
}

/** What a connection asks of the daemon. */
export interface ConnectionHost {
  /** The daemon's answer to `hello`, given the client's version (already checked). */
  hello(): Record<string, unknown>;
  /** Handles one request (not `hello`, not `attach`); resolves with its result. */
  handle(request: Exclude<Request, { op: 'hello' | 'attach' }>): Promise<unknown>;
  /**
   * Handles `attach`: resolves with its result and the stream to pump, or rejects. Called at
   * most once per connection; the connection is a stream from then on.
   */
  attach(
    request: Extract<Request, { op: 'attach' }>,
    conn: ServerConnection,
  ): Promise<AttachBinding>;
  /** Logs one line. */
  log(line: string): void;
}

/** The daemon side of an attach stream, driven by the connection. */
export interface AttachBinding {
  /** The attach response's result. */
  result: Record<string, unknown>;
  /** The backlog, sent as `data` events right after the response. */
  backlog: Uint8Array;
  /** Absolute stream offset of `backlog[0]`. */
  backlogOffset: number;
  /** Live events; the pump awaits socket drain between them (backpressure). Ends after `end`. */
  events: AsyncIterable<StreamEvent>;
  /** A command from the client on this stream. Throwing sends `end` with reason `error`. */
  command(command: StreamCommand): void;
  /** The client went away (or the stream ended): release the seat. Idempotent. */
  release(): void;
}

/** Chunk size for backlog and large data events. */
const DATA_CHUNK = 256 * 1024;

let nextConnectionId = 1;

/** One accepted socket. */
export class ServerConnection {
  readonly id = nextConnectionId++;
  readonly socket: Socket;
  private readonly host: ConnectionHost;
  private readonly decoder = new FrameDecoder();
  private greeted = false;
  private binding: AttachBinding | undefined;
  private attaching = false;
  private closing = false;
  private readonly inflight = new Set<Promise<void>>();
  private drainWaiters: (() => void)[] = [];

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.host = host;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {
      // A client that vanished mid-write (EPIPE, ECONNRESET): 'close' follows and cleans up.
    });
    socket.on('close', () => this.onClose());
  }

  /** Whether this connection has turned into an attach stream. */
  get streaming(): boolean {
    return this.binding !== undefined;
  }

  /** Sends `end` with `reason` on a stream (or nothing on an RPC connection) and closes. */
  endStream(reason: string, message?: string): void {
    if (this.binding && !this.socket.destroyed) {
      this.write(encodeFrame({ ev: 'end', reason, message }));
    }
    this.close();
  }

  /** Closes after flushing what is queued; destroys if the flush takes too long. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_FLUSH_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /** Destroys the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private write(frame: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(frame);
  }

  private reply(id: number, result: unknown): void {
    let frame: Buffer;
    try {
      frame = encodeFrame({ id, ok: true, result: result ?? {} });
    } catch (e) {
      frame = encodeFrame({
        id,
        ok: false,
        error: { code: 'internal', message: `cannot encode the answer: ${(e as Error).message}` },
      });
    }
    this.write(frame);
    this.throttleReads();
  }

  private replyError(id: number, code: ErrorCode, message: string): void {
    this.write(encodeFrame({ id, ok: false, error: { code, message } }));
    this.throttleReads();
  }

  private throttleReads(): void {
    if (!this.binding && this.socket.writableLength > WRITE_HIGH_WATER) this.socket.pause();
  }

  private onDrain(): void {
    if (!this.binding && !this.closing) this.socket.resume();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    let values: unknown[];
    try {
      values = this.decoder.push(chunk);
    } catch (e) {
      const message = e instanceof FrameError ? e.message : String(e);
      this.host.log(`connection ${this.id}: bad frame: ${message}`);
      if (this.binding) this.endStream('error', `bad frame: ${message}`);
      else {
        this.replyError(0, 'bad-frame', `bad frame: ${message}`);
        this.close();
      }
      return;
    }
    for (const value of values) {
      if (this.closing) return;
      if (this.binding) this.onStreamValue(value);
      else this.onRequestValue(value);
    }
  }

  private onStreamValue(value: unknown): void {
    let command: StreamCommand;
    try {
      command = parseStreamCommand(value);
    } catch (e) {
      this.endStream('error', (e as Error).message);
      return;
    }
    try {
      this.binding!.command(command);
    } catch (e) {
      this.endStream('error', (e as Error).message);
    }
  }

  private onRequestValue(value: unknown): void {
    if (this.attaching) {
      // The client must wait for the attach answer before sending anything else.
      this.replyError(0, 'protocol', 'no request may follow attach on the same connection');
      this.close();
      return;
    }
    let request: Request;
    try {
      request = parseRequest(value);
    } catch (e) {
      const pe = e as ProtocolError;
      this.replyError(pe.id ?? 0, pe.code ?? 'protocol', pe.message);
      if (!pe.id || !this.greeted) this.close();
      return;
    }
    if (!this.greeted) {
      if (request.op !== 'hello') {
        this.replyError(
          request.id,
          'protocol',
          `the first request must be hello, not ${request.op}`,
        );
        this.close();
        return;
      }
      if (request.version !== PROTOCOL_VERSION) {
        this.replyError(
          request.id,
          'version',
          `protocol version ${request.version} is not supported: this daemon speaks version ${PROTOCOL_VERSION}`,
        );
        this.close();
        return;
      }
      this.greeted = true;
      this.reply(request.id, this.host.hello());
      return;
    }
    if (request.op === 'hello') {
      this.replyError(request.id, 'protocol', 'hello was already exchanged');
      return;
    }
    if (request.op === 'attach') {
      this.startAttach(request);
      return;
    }
    const id = request.id;
    const p = this.host
      .handle(request)
      .then(
        (result) => this.reply(id, result),
        (e: unknown) => this.replyFailure(id, e),
      )
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private replyFailure(id: number, e: unknown): void {
    if (e instanceof RequestFailure) this.replyError(id, e.code, e.message);
    else {
      const message = e instanceof Error ? e.message : String(e);
      this.host.log(`connection ${this.id}: request ${id} failed: ${message}`);
      this.replyError(id, 'internal', message);
    }
  }

  private startAttach(request: Extract<Request, { op: 'attach' }>): void {
    this.attaching = true;
    this.host.attach(request, this).then(
      (binding) => {
        this.attaching = false;
        if (this.closing || this.socket.destroyed) {
          binding.release();
          return;
        }
        this.binding = binding;
        // Streams apply their own backpressure; never leave reads paused from the RPC phase.
        this.socket.resume();
        this.reply(request.id, binding.result);
        void this.pump(binding);
      },
      (e: unknown) => {
        this.attaching = false;
        this.replyFailure(request.id, e);
      },
    );
  }

  private async pump(binding: AttachBinding): Promise<void> {
    try {
      if (!(await this.sendData(binding.backlog, binding.backlogOffset))) return;
      for await (const event of binding.events) {
        if (this.socket.destroyed) return;
        let ok: boolean;
        if (event.ev === 'data') ok = await this.sendData(event.data, event.offset);
        else {
          ok = this.write(encodeFrame(event));
          if (!ok && !this.socket.destroyed) await this.waitDrain();
        }
        if (event.ev === 'end') {
          this.close();
          return;
        }
        if (this.socket.destroyed) return;
      }
      // The events ended without an `end`: the stream is over all the same.
      this.endStream('detached');
    } catch (e) {
      this.host.log(`connection ${this.id}: attach stream failed: ${(e as Error).message}`);
      this.endStream('error', (e as Error).message);
    } finally {
      binding.release();
    }
  }

  /** Writes `data` as data events (in pieces if large); false once the socket is gone. */
  private async sendData(data: Uint8Array, offset: number): Promise<boolean> {
    for (let at = 0; at < data.byteLength; at += DATA_CHUNK) {
      if (this.socket.destroyed) return false;
      const piece = data.byteLength <= DATA_CHUNK ? data : data.subarray(at, at + DATA_CHUNK);
      const { head, payload } = encodeBinaryFrame(
        { ev: 'data', offset: offset + at },
        'data',
        piece,
      );
      this.socket.cork();
      this.write(head);
      const ok = this.write(payload);
      this.socket.uncork();
      if (!ok) {
        if (this.socket.destroyed) return false;
        await this.waitDrain(); // also released when the socket closes
      }
    }
    return !this.socket.destroyed;
  }

  private onClose(): void {
    this.closing = true;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
    this.binding?.release();
  }
}
