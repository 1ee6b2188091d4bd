/**
 * The two ends a stage is started with, and the in-memory pipe between two function stages.
 *
 * An `InputStream`/`OutputStream` is one of: nothing, a file descriptor, or a Node stream; and it
 * either owns what it holds (`closing`: closing the stream closes the fd or destroys the stream)
 * or borrows it from the caller (closing only lets go of it). `close()` is idempotent. A stage that
 * is given one owns the object and must close it, even when its start fails.
 */
import { closeSync, createReadStream, createWriteStream } from 'node:fs';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { ClosedPipeError } from '../errors.js';

/** What an end holds. */
export type StreamKind = 'none' | 'fd' | 'stream';

/** A function that swallows a stream's 'error' so no error event can crash the process. */
function swallow(): void {}

/** The fd behind a Node stream, if it has one (fs streams once open, sockets, TTYs, stdio). */
export function fdOfStream(stream: unknown): number | undefined {
  const s = stream as { fd?: unknown; _handle?: { fd?: unknown } | null } | null;
  if (!s || typeof s !== 'object') return undefined;
  if (typeof s.fd === 'number' && s.fd >= 0) return s.fd;
  const h = s._handle?.fd;
  return typeof h === 'number' && h >= 0 ? h : undefined;
}

/**
 * Wraps a kernel pipe or socket fd that sluice owns in a `net.Socket` (non-blocking, driven by
 * epoll, closed with the socket). Only for fds made by `createPipes`: it sets O_NONBLOCK on the
 * parent's open file description, which no child shares.
 */
export function socketForPipeRead(fd: number): net.Socket {
  const s = new net.Socket({ fd, readable: true, writable: false });
  s.on('error', swallow);
  return s;
}

/** The write-side twin of `socketForPipeRead`. */
export function socketForPipeWrite(fd: number): net.Socket {
  const s = new net.Socket({ fd, readable: false, writable: true });
  s.on('error', swallow);
  return s;
}

/** How one side makes the Node stream a function stage reads or writes (see `StageEnd.wrap`). */
interface Wrappers<S> {
  /** For nothing (or an end already closed): an empty or a discarding stream. */
  nothing(): S;
  /** For the caller's stream that this end does not own. */
  borrow(stream: S): S;
  /** For one of sluice's own kernel pipe fds: a non-blocking socket that owns the fd. */
  socket(fd: number): S;
  /** For any other fd: an fs stream that closes the fd only if this end owns it. */
  file(fd: number, autoClose: boolean): S;
}

/**
 * What the read and the write end of a stage share: what they hold, who owns it, the fd hand-over
 * and the one Node stream made for a function stage. Each side adds how it closes.
 */
abstract class StageEnd<S extends Readable | Writable> {
  /** What this end holds: nothing, a file descriptor, or a Node stream. Fixed at creation. */
  readonly kind: StreamKind;
  /** Whether closing this end closes what it holds (an fd sluice made, a stream it owns). */
  readonly closing: boolean;
  /** Whether the fd is one of sluice's own kernel pipes (safe to wrap in a socket). */
  readonly isPipe: boolean;
  /** @internal The fd held, -1 once handed over, wrapped or closed. */
  protected heldFd: number;
  /** @internal The caller's stream, if this end was made from one. */
  protected readonly held: S | undefined;
  /** @internal The stream `wrap` made (or the caller's, when owned), once asked for. */
  protected wrapped: S | undefined;
  /** @internal Whether `close()` has run. */
  protected isClosed = false;

  /** @internal Use the static factories of InputStream and OutputStream. */
  protected constructor(
    kind: StreamKind,
    fd: number,
    stream: S | undefined,
    closing: boolean,
    isPipe: boolean,
  ) {
    this.kind = kind;
    this.heldFd = fd;
    this.held = stream;
    this.closing = closing;
    this.isPipe = isPipe;
  }

  /** The fd, or -1 (not an fd, or already handed over or closed). */
  get fd(): number {
    return this.isClosed ? -1 : this.heldFd;
  }

  /** The caller's stream, or the one made for a function stage; undefined when neither exists. */
  get stream(): S | undefined {
    return this.wrapped ?? this.held;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Hands the fd over to whoever will close it (a child's stdio that the caller closes right after
   * spawning, a socket). Afterwards `close()` leaves the fd alone. Returns -1 when there is none.
   */
  takeFd(): number {
    const fd = this.heldFd;
    this.heldFd = -1;
    return fd;
  }

  /** Closes (owned) or lets go of (borrowed) what this end holds. Idempotent, never throws. */
  abstract close(): void;

  /**
   * @internal The one Node stream over this end (the same object on every call): an owned pipe fd
   * becomes a socket that then owns it, another fd an fs stream, a borrowed stream a wrapper
   * that leaves the caller's stream alone, nothing an empty or discarding stream.
   */
  protected wrap(make: Wrappers<S>): S {
    if (this.wrapped) return this.wrapped;
    let w: S;
    if (this.isClosed || this.kind === 'none') {
      w = make.nothing();
    } else if (this.held) {
      w = this.closing ? this.held : make.borrow(this.held);
    } else {
      w =
        this.isPipe && this.closing
          ? make.socket(this.heldFd)
          : make.file(this.heldFd, this.closing);
      this.heldFd = -1;
    }
    w.on('error', swallow);
    this.wrapped = w;
    return w;
  }
}

/** The read end of a stage. */
export class InputStream extends StageEnd<Readable> {
  /** Nothing connected: a command reads /dev/null, a function an empty stream. */
  static none(): InputStream {
    return new InputStream('none', -1, undefined, false, false);
  }

  /**
   * An fd. `closing`: close it when done (sluice's pipes); otherwise it is the caller's. `stream`
   * is the caller's stream the fd came from, handed as is to a function stage.
   */
  static fd(
    fd: number,
    options: { closing: boolean; isPipe?: boolean; stream?: Readable },
  ): InputStream {
    return new InputStream('fd', fd, options.stream, options.closing, options.isPipe ?? false);
  }

  /** A Node stream without an fd. */
  static stream(stream: Readable, options: { closing: boolean }): InputStream {
    return new InputStream('stream', -1, stream, options.closing, false);
  }

  /**
   * A Node Readable over this end, for a function stage. An owned pipe fd becomes a
   * non-blocking socket (which then owns the fd); a borrowed fd is read without being closed; a
   * borrowed stream is wrapped so that destroying the wrapper leaves the caller's stream alone;
   * nothing becomes an empty stream. The same object is returned on every call.
   */
  readable(): Readable {
    return this.wrap({
      nothing: () => Readable.from([]),
      borrow: borrowReadable,
      socket: socketForPipeRead,
      file: (fd, autoClose) => createReadStream('', { fd, autoClose }),
    });
  }

  /** Closes (owned) or lets go of (borrowed) what this end holds. Idempotent, never throws. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.wrapped) {
      if (this.wrapped !== this.held || this.closing) this.wrapped.destroy();
    } else if (this.held) {
      // The fd (if any) belongs to the stream: close through it, never under it.
      if (this.closing) this.held.destroy();
    } else if (this.heldFd >= 0 && this.closing) {
      closeQuietly(this.heldFd);
    }
    this.heldFd = -1;
  }
}

/** The write end of a stage. */
export class OutputStream extends StageEnd<Writable> {
  /** Nothing connected: a command writes to /dev/null, a function into a discarding stream. */
  static none(): OutputStream {
    return new OutputStream('none', -1, undefined, false, false);
  }

  /**
   * An fd. `closing`: close it when done (sluice's pipes); otherwise it is the caller's. `stream`
   * is the caller's stream the fd came from, handed as is to a function stage.
   */
  static fd(
    fd: number,
    options: { closing: boolean; isPipe?: boolean; stream?: Writable },
  ): OutputStream {
    return new OutputStream('fd', fd, options.stream, options.closing, options.isPipe ?? false);
  }

  /** A Node stream without an fd. `closing`: end it when done; otherwise it is the caller's. */
  static stream(stream: Writable, options: { closing: boolean }): OutputStream {
    return new OutputStream('stream', -1, stream, options.closing, false);
  }

  /**
   * A Node Writable over this end, for a function stage. Ending it ends what this end owns; a
   * borrowed stream is wrapped so that ending the wrapper flushes but never ends the caller's
   * stream. Nothing becomes a stream that discards what it is given.
   */
  writable(): Writable {
    return this.wrap({
      nothing: () =>
        new Writable({
          write(_chunk, _enc, cb) {
            cb();
          },
        }),
      borrow: borrowWritable,
      socket: socketForPipeWrite,
      file: (fd, autoClose) => createWriteStream('', { fd, autoClose }),
    });
  }

  /**
   * Closes (owned) or lets go of (borrowed) what this end holds. An owned stream is ended (so
   * what was written is flushed), not destroyed; use `abort()` to drop it. Idempotent.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const w = this.wrapped ?? this.held;
    if (w && (this.closing || w !== this.held) && !w.writableEnded && !w.destroyed) {
      w.on('error', swallow);
      w.end();
    } else if (!w && this.heldFd >= 0 && this.closing) {
      // The fd (if any) of a stream belongs to it: closed through it, never under it.
      closeQuietly(this.heldFd);
    }
    this.heldFd = -1;
  }

  /** Closes without flushing: an owned stream is destroyed. Idempotent. */
  abort(error?: Error): void {
    const w = this.wrapped ?? this.held;
    if (!this.isClosed && w && (this.closing || w !== this.held)) {
      w.on('error', swallow);
      w.destroy(error);
    }
    this.close();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * A Readable that reads `src` without owning it: destroying the wrapper stops reading and
 * detaches, but neither ends nor destroys `src`.
 */
export function borrowReadable(src: Readable): Readable {
  let detached = false;
  const onData = (chunk: Buffer | string) => {
    if (!out.push(chunk)) src.pause();
  };
  const onEnd = () => {
    detach();
    out.push(null);
  };
  const onError = (err: Error) => {
    detach();
    out.destroy(err);
  };
  function detach() {
    if (detached) return;
    detached = true;
    src.off('data', onData);
    src.off('end', onEnd);
    src.off('error', onError);
    src.pause();
  }
  const out = new Readable({
    read() {
      if (!detached) src.resume();
    },
    destroy(err, cb) {
      detach();
      cb(err);
    },
  });
  if (src.readableEnded) {
    detached = true;
    out.push(null);
  } else {
    src.on('data', onData);
    src.on('end', onEnd);
    src.on('error', onError);
    src.pause();
  }
  return out;
}

/**
 * A Writable that writes into `dst` without owning it: ending the wrapper waits for every write
 * to be accepted by `dst` but does not end `dst`; destroying it leaves `dst` alone.
 */
export function borrowWritable(dst: Writable): Writable {
  let pending = 0;
  let onIdle: (() => void) | undefined;
  let failed: Error | undefined;
  const settle = (err?: Error | null) => {
    if (err && !failed) failed = err;
    pending--;
    if (pending === 0 && onIdle) {
      const f = onIdle;
      onIdle = undefined;
      f();
    }
  };
  return new Writable({
    write(chunk, _enc, cb) {
      if (failed) return cb(failed);
      if (dst.destroyed || dst.writableEnded) return cb(new ClosedPipeError('stdout is closed'));
      pending++;
      if (dst.write(chunk, settle)) cb();
      else dst.once('drain', () => cb(failed));
    },
    final(cb) {
      if (pending === 0) return cb(failed);
      onIdle = () => cb(failed);
    },
  });
}
