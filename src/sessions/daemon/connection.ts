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
import { encodeBinaryHead, encodeFrame, FrameDecoder, FrameError } from '../wire/frames.js';
import { ProtocolError, parseRequest, parseStreamCommand } from '../wire/parse.js';
import {
  type ErrorCode,
  PROTOCOL_VERSION,
  type Request,
  type StreamCommand,
  type StreamEvent,
} from '../wire/protocol.js';

/** Answers beyond this many unsent bytes pause reading from the client. */
const WRITE_HIGH_WATER = 8 * 1024 * 1024;
/** How long a new connection may take to send `hello`, unless the daemon says otherwise. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
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
  /**
   * The backlog in pieces (a screen drawing first, when there is one), sent as `data` events of
   * at most 256 KiB right after the response, without joining the pieces.
   */
  backlog: readonly Uint8Array[];
  /** The pieces' total length. */
  backlogBytes: number;
  /** Absolute stream offset of `backlog[0]`. */
  backlogOffset: number;
  /**
   * The next batch of live events (waiting for at least one); undefined once the stream is over
   * without an `end` event. The pump sends a batch, then awaits the socket's drain before asking
   * for the next one: that is the backpressure into the session's bounded attachment queue.
   */
  next(): Promise<OutgoingEvent[] | undefined>;
  /** A command from the client on this stream. Throwing sends `end` with reason `error`. */
  command(command: StreamCommand): void;
  /** The client went away (or the stream ended): release the seat. Idempotent. */
  release(): void;
}

/**
 * A stream event as the daemon sends it: output may be several buffers (contiguous in the
 * stream) sent as one `data` event without being copied together.
 */
export type OutgoingEvent =
  | Exclude<StreamEvent, { ev: 'data' }>
  | { ev: 'data'; parts: Uint8Array[]; length: number; offset: number };

/** Chunk size for backlog and large data events. */
const DATA_CHUNK = 256 * 1024;

/**
 * `pieces` cut into runs of at most `size` bytes: each run's views (never copies), its length and
 * where it starts within the whole.
 */
function* dataChunks(
  pieces: readonly Uint8Array[],
  size: number,
): Generator<[Uint8Array[], number, number]> {
  let run: Uint8Array[] = [];
  let length = 0;
  let at = 0;
  for (const piece of pieces) {
    for (let from = 0; from < piece.byteLength; ) {
      const take = Math.min(piece.byteLength - from, size - length);
      run.push(from === 0 && take === piece.byteLength ? piece : piece.subarray(from, from + take));
      length += take;
      from += take;
      if (length === size) {
        yield [run, length, at];
        at += length;
        run = [];
        length = 0;
      }
    }
  }
  if (length > 0) yield [run, length, at];
}

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
  /** Frames that arrived while an attach was being set up. */
  private early: unknown[] = [];
  private closing = false;
  private readonly inflight = new Set<Promise<void>>();
  private drainWaiters: (() => void)[] = [];

  constructor(socket: Socket, host: ConnectionHost, helloTimeoutMs = DEFAULT_HELLO_TIMEOUT_MS) {
    this.socket = socket;
    this.host = host;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {
      // A client that vanished mid-write (EPIPE, ECONNRESET): 'close' follows and cleans up.
    });
    socket.on('close', () => this.onClose());
    // A connection that never says hello does not hold an fd forever.
    const helloTimer = setTimeout(() => {
      if (!this.greeted && !this.closing) {
        this.replyError(0, 'protocol', `no hello within ${helloTimeoutMs} ms`);
        this.close();
      }
    }, helloTimeoutMs);
    helloTimer.unref();
    socket.once('close', () => clearTimeout(helloTimer));
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
    let bad: FrameError | undefined;
    try {
      values = this.decoder.push(chunk);
    } catch (e) {
      bad = e instanceof FrameError ? e : new FrameError('malformed', String(e));
      values = bad.values;
    }
    for (const value of values) {
      if (this.closing) return;
      if (this.binding) this.onStreamValue(value);
      else this.onRequestValue(value);
    }
    if (bad && !this.closing) {
      this.host.log(`connection ${this.id}: bad frame: ${bad.message}`);
      if (this.binding) this.endStream('error', `bad frame: ${bad.message}`);
      else {
        this.replyError(0, 'bad-frame', `bad frame: ${bad.message}`);
        this.close();
      }
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
      // Sent right behind the attach: stream commands, applied once the attach is in place.
      this.early.push(value);
      return;
    }
    let request: Request;
    try {
      request = parseRequest(value);
    } catch (e) {
      const pe = e instanceof ProtocolError ? e : new ProtocolError(String(e));
      this.replyError(pe.id, pe.wireCode, pe.message);
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
        const early = this.early;
        this.early = [];
        for (const value of early) if (!this.closing) this.onStreamValue(value);
      },
      (e: unknown) => {
        this.attaching = false;
        this.replyFailure(request.id, e);
        if (this.early.length > 0) {
          this.early = [];
          this.replyError(0, 'protocol', 'stream commands sent behind a failed attach');
          this.close();
        }
      },
    );
  }

  private async pump(binding: AttachBinding): Promise<void> {
    try {
      // The backlog is in memory already (a copy of the ring, the drawing's pieces): it goes to
      // the socket all at once and drains there, not one trip through the event loop a chunk.
      let sent = true;
      for (const [parts, length, at] of dataChunks(binding.backlog, DATA_CHUNK)) {
        sent = this.sendParts(parts, length, binding.backlogOffset + at);
      }
      if (!sent) {
        if (this.socket.destroyed) return;
        await this.waitDrain();
      }
      for (;;) {
        const batch = await binding.next();
        if (this.socket.destroyed) return;
        if (!batch) {
          // The events ended without an `end`: the stream is over all the same.
          this.endStream('detached');
          return;
        }
        let ok = true;
        for (const event of batch) {
          if (event.ev === 'data') ok = this.sendParts(event.parts, event.length, event.offset);
          else ok = this.write(encodeFrame(event));
          if (event.ev === 'end') {
            this.close();
            return;
          }
        }
        if (!ok) {
          if (this.socket.destroyed) return;
          await this.waitDrain(); // also released when the socket closes
        }
      }
    } catch (e) {
      this.host.log(`connection ${this.id}: attach stream failed: ${(e as Error).message}`);
      this.endStream('error', (e as Error).message);
    } finally {
      binding.release();
    }
  }

  /** Writes one `data` event made of `parts` (never copied); returns the socket's `write`. */
  private sendParts(parts: Uint8Array[], length: number, offset: number): boolean {
    if (this.socket.destroyed) return false;
    const head = encodeBinaryHead({ ev: 'data', offset }, 'data', length);
    this.socket.cork();
    let ok = this.write(head);
    for (const p of parts) ok = this.write(p);
    this.socket.uncork();
    return ok;
  }

  private onClose(): void {
    this.closing = true;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
    this.binding?.release();
  }
}
