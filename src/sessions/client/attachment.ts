/**
 * The client side of an attach stream: the backlog, then live output as an async iterable. It
 * mirrors the library's `Attachment`: the same frame names (`output`, `missed`, `eof`, `exit`),
 * `write`/`closeStdin` that resolve, `resize`, `detach()` returning a promise, `position`,
 * and `await using`.
 */

import type { ExitInfo } from '../../proc/index.js';
import { AttachmentClosedError, ReadOnlyAttachmentError } from '../core/errors.js';
import type {
  AttachResult,
  EndReason,
  StreamEvent,
  StreamName,
  WireSessionInfo,
} from '../wire/protocol.js';
import type { Connection } from './connection.js';
import { ConnectionClosedError } from './errors.js';

/** What an attachment yields: the library's `AttachmentFrame`s, as they come off the wire. */
export type AttachEvent =
  /** Output; `offset` is the absolute stream offset of `data[0]`. */
  | {
      /** Output bytes. */
      type: 'output';
      /** The bytes, in the order the program wrote them. */
      data: Buffer;
      /** Absolute stream offset of `data[0]` (bytes since the session started). */
      offset: number;
    }
  /** This client fell behind; `bytes` of output were skipped here; delivery resumes at `offset`. */
  | {
      /** Output this client skipped. */
      type: 'missed';
      /** How many bytes were skipped. */
      bytes: number;
      /** Absolute stream offset where delivery resumes. */
      offset: number;
    }
  /** The stream ended (the child closed it); `exit` normally follows. */
  | {
      /** The stream's end. */
      type: 'eof';
      /** Absolute stream offset just past the last byte: the stream's total length. */
      offset: number;
    }
  /** The session exited: how, and when (ms since the epoch). */
  | {
      /** The session's exit. */
      type: 'exit';
      /** How the program ended. */
      exitInfo: ExitInfo;
      /** When the exit was recorded, in milliseconds since the epoch. */
      exitedAt: number;
    };

/** How an attachment ended. `closed`: the connection broke without an `end` from the daemon. */
export interface AttachEnd {
  /** Why it ended: the daemon's `end` reason, or `closed` when the connection broke first. */
  reason: EndReason | 'closed';
  /** The daemon's explanation, sent with an `error` end; undefined otherwise. */
  message?: string;
  /**
   * The session's exit, when the daemon reported it on this stream: always before an `exited`
   * end, and before a `shutdown` end for every session the shutdown stopped.
   */
  exit?: ExitInfo;
  /** When the session exited (ms since the epoch), with `exit`. */
  exitedAt?: number;
}

/** Queued bytes above which the socket is paused until the consumer catches up. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/**
 * One attachment to one stream of one session, over its own connection.
 *
 * Guarantees: `backlog` holds the ring's contents at attach time, byte for byte, and the first
 * live event continues exactly where it ends (or with a `missed` event saying how much this
 * client skipped). Iterating yields events in order and ends after the daemon's `end`; `ended`
 * then tells why. The queue between the socket and the iterator is bounded: past 4 MiB unread the
 * socket is paused, so a slow consumer pushes back on the daemon (which counts what it has to
 * skip and reports it as `missed`). Breaking out of the loop detaches. Whoever attaches must
 * either iterate to the end or call `detach()`/`close()`, which release the connection.
 */
export class ClientAttachment implements AsyncIterable<AttachEvent> {
  /** The session as it was at attach time. */
  readonly session: WireSessionInfo;
  /** The stream attached to. */
  readonly stream: StreamName;
  /** Whether this is a read-only viewer: `write`, `closeStdin` and `resize` then reject. */
  readonly readOnly: boolean;
  /** Bytes dropped from the ring before `backlog` begins. */
  readonly missedBytes: number;
  /**
   * A PTY session with a screen: bytes that draw its screen as it was at `backlogOffset` (both
   * buffers, scrollback, cursor, modes; never a terminal query). Write them to a terminal of the
   * session's size (or of the size the attach gave, for a viewer), then `backlog`, then live
   * output. Empty for a raw replay.
   */
  readonly screen: Buffer;
  /**
   * The ring's contents at attach time (from `fromOffset` when the attach gave one); after a
   * `screen`, only what the session wrote after the drawing was taken.
   */
  readonly backlog: Buffer;
  /** Absolute stream offset of `backlog[0]`. */
  readonly backlogOffset: number;
  /** Resolves when the stream ends, however it ends. */
  readonly done: Promise<AttachEnd>;

  private readonly conn: Connection;
  private queue: AttachEvent[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused = false;
  private end: AttachEnd | undefined;
  private wake: (() => void) | undefined;
  private resolveDone!: (end: AttachEnd) => void;
  private exit: { exitInfo: ExitInfo; exitedAt: number } | undefined;
  private pos: number;

  /** @internal Built by `SessionsClient.attach` once the backlog has arrived. */
  constructor(
    conn: Connection,
    result: AttachResult,
    backlog: Buffer,
    screen: Buffer = Buffer.alloc(0),
  ) {
    this.conn = conn;
    this.session = result.session;
    this.stream = result.stream;
    this.readOnly = result.readOnly;
    this.missedBytes = result.missedBytes;
    this.backlog = backlog;
    this.screen = screen;
    this.backlogOffset = result.backlogOffset;
    this.pos = result.backlogOffset + backlog.byteLength;
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /**
   * Absolute stream offset after the last byte handed to the consumer (the backlog counts as
   * handed). Attach again with `{ fromOffset: position }` to get exactly what this one had not
   * delivered.
   */
  get position(): number {
    return this.pos;
  }

  /** Why the stream ended, once it has. */
  get ended(): AttachEnd | undefined {
    return this.end;
  }

  /** @internal Receives live events from the connection. */
  push(event: StreamEvent): void {
    if (this.end) return;
    switch (event.ev) {
      case 'data': {
        const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength);
        this.queue.push({ type: 'output', data, offset: event.offset });
        this.queuedBytes += data.byteLength;
        if (this.queuedBytes > HIGH_WATER && !this.paused) {
          this.paused = true;
          this.conn.socket.pause();
        }
        break;
      }
      case 'missed':
        this.queue.push({ type: 'missed', bytes: event.bytes, offset: event.offset });
        break;
      case 'eof':
        this.queue.push({ type: 'eof', offset: event.offset });
        break;
      case 'exit':
        this.exit = { exitInfo: event.exitInfo, exitedAt: event.exitedAt };
        this.queue.push({ type: 'exit', exitInfo: event.exitInfo, exitedAt: event.exitedAt });
        break;
      case 'end':
        this.finish({ reason: event.reason, message: event.message });
        void this.conn.end();
        break;
    }
    this.notify();
  }

  /** @internal The connection went away. */
  closed(error?: Error): void {
    if (this.end) return;
    this.finish({ reason: 'closed', message: error?.message });
    this.notify();
  }

  /**
   * Writes to the session's input (stdin or the PTY), as the library's `Attachment.write`:
   * resolves with the byte count once the bytes are handed to the connection (the stream has no
   * per-write answer; a write the daemon cannot apply ends the stream with reason `error`).
   * Rejects with `ReadOnlyAttachmentError` on a read-only attachment and `AttachmentClosedError`
   * once the attachment has ended.
   */
  write(data: string | Uint8Array): Promise<number> {
    try {
      this.assertWriter('write');
    } catch (e) {
      return Promise.reject(e);
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.byteLength === 0) return Promise.resolve(0);
    // Large writes go in pieces so each frame stays well under the 4 MiB limit.
    for (let at = 0; at < bytes.byteLength; at += 1024 * 1024) {
      this.conn.sendCommand({ op: 'input', data: bytes.subarray(at, at + 1024 * 1024) });
    }
    return Promise.resolve(bytes.byteLength);
  }

  /**
   * Closes the session's stdin (a PTY gets the EOF character). Rejects as `write` does.
   */
  closeStdin(): Promise<void> {
    try {
      this.assertWriter('close stdin');
      this.conn.sendCommand({ op: 'eof' });
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve();
  }

  /** @deprecated Renamed `closeStdin()`, the library's name. Throws as `closeStdin` rejects. */
  eof(): void {
    this.assertWriter('close stdin');
    this.conn.sendCommand({ op: 'eof' });
  }

  /** Resizes the session's PTY. Throws as `write` rejects. */
  resize(rows: number, cols: number): void {
    this.assertWriter('resize');
    this.conn.sendCommand({ op: 'resize', rows, cols });
  }

  /**
   * Asks the daemon to detach and resolves once the stream has ended (`done` and `ended` then say
   * how: normally `detached`; the session may have exited or been stolen first). The session
   * keeps running. Never rejects.
   */
  async detach(): Promise<void> {
    await this.#detach();
  }

  /** `await using`: the same as `detach()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#detach();
  }

  async #detach(): Promise<AttachEnd> {
    if (!this.end && !this.conn.closed) {
      try {
        this.conn.sendCommand({ op: 'detach' });
      } catch {
        // Closed meanwhile: done resolves through closed().
      }
    }
    // Unread events would hold the socket paused; the caller gave up on them.
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    if (this.paused) this.conn.socket.resume();
    return this.done;
  }

  /** Drops the connection at once, without waiting for the daemon's `end`. */
  close(): void {
    this.conn.destroy();
  }

  /**
   * Yields the live events in order (the backlog is in `screen` and `backlog`, not here) and
   * ends after the daemon's `end`; leaving the loop early (`break`, `return`, a throw) detaches.
   */
  [Symbol.asyncIterator](): AsyncIterator<AttachEvent> {
    return {
      next: () => this.next(),
      return: async (): Promise<IteratorResult<AttachEvent>> => {
        await this.#detach();
        return { done: true, value: undefined };
      },
    };
  }

  private next(): Promise<IteratorResult<AttachEvent>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as AttachEvent;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (value.type === 'missed') this.pos = value.offset;
      if (value.type === 'output') {
        this.pos = value.offset + value.data.byteLength;
        this.queuedBytes -= value.data.byteLength;
        if (this.paused && this.queuedBytes < LOW_WATER) {
          this.paused = false;
          this.conn.socket.resume();
        }
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.end) {
      if (this.end.reason === 'closed' && this.end.message) {
        return Promise.reject(new ConnectionClosedError(this.end.message));
      }
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.wake = () => {
        this.wake = undefined;
        this.next().then(resolve, reject);
      };
    });
  }

  private notify(): void {
    this.wake?.();
  }

  private finish(end: AttachEnd): void {
    const full: AttachEnd = this.exit
      ? { ...end, exit: this.exit.exitInfo, exitedAt: this.exit.exitedAt }
      : end;
    this.end = full;
    this.resolveDone(full);
  }

  private assertWriter(what: string): void {
    if (this.readOnly) throw new ReadOnlyAttachmentError(what);
    if (this.end) throw new AttachmentClosedError(`cannot ${what}: the attachment has ended`);
  }
}
