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

/** The read end of a stage. */
export class InputStream {
  /** What this end holds: nothing, a file descriptor, or a Node stream. Fixed at creation. */
  readonly kind: StreamKind;
  /** Whether closing this end closes what it holds (an fd sluice made, a stream it owns). */
  readonly closing: boolean;
  /** Whether the fd is one of sluice's own kernel pipes (safe to wrap in a socket). */
  readonly isPipe: boolean;
  #fd: number;
  #stream: Readable | undefined;
  #wrapped: Readable | undefined;
  #closed = false;

  private constructor(
    kind: StreamKind,
    fd: number,
    stream: Readable | undefined,
    closing: boolean,
    isPipe: boolean,
  ) {
    this.kind = kind;
    this.#fd = fd;
    this.#stream = stream;
    this.closing = closing;
    this.isPipe = isPipe;
  }

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

  /** The fd, or -1 (not an fd, or already handed over or closed). */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  /** The caller's stream, or the one `readable()` made. */
  get stream(): Readable | undefined {
    return this.#wrapped ?? this.#stream;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A Node Readable over this end, for a function stage. An owned pipe fd becomes a
   * non-blocking socket (which then owns the fd); a borrowed fd is read without being closed; a
   * borrowed stream is wrapped so that destroying the wrapper leaves the caller's stream alone;
   * nothing becomes an empty stream. The same object is returned on every call.
   */
  readable(): Readable {
    if (this.#wrapped) return this.#wrapped;
    let r: Readable;
    if (this.#closed || this.kind === 'none') {
      r = Readable.from([]);
    } else if (this.#stream) {
      r = this.closing ? this.#stream : borrowReadable(this.#stream);
    } else if (this.isPipe && this.closing) {
      r = socketForPipeRead(this.#fd);
      this.#fd = -1;
    } else {
      r = createReadStream('', { fd: this.#fd, autoClose: this.closing });
      this.#fd = -1;
    }
    r.on('error', swallow);
    this.#wrapped = r;
    return r;
  }

  /**
   * Hands the fd over to whoever will close it (a child's stdio that the caller closes right
   * after spawning, a socket). Afterwards `close()` leaves the fd alone.
   */
  takeFd(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /** Closes (owned) or lets go of (borrowed) what this end holds. Idempotent, never throws. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#wrapped) {
      if (this.#wrapped !== this.#stream || this.closing) this.#wrapped.destroy();
    } else if (this.#stream) {
      // The fd (if any) belongs to the stream: close through it, never under it.
      if (this.closing) this.#stream.destroy();
    } else if (this.#fd >= 0 && this.closing) {
      closeQuietly(this.#fd);
    }
    this.#fd = -1;
  }
}

/** The write end of a stage. */
export class OutputStream {
  /** What this end holds: nothing, a file descriptor, or a Node stream. Fixed at creation. */
  readonly kind: StreamKind;
  /** Whether closing this end closes what it holds (an fd sluice made, a stream it owns). */
  readonly closing: boolean;
  /** Whether the fd is one of sluice's own kernel pipes (safe to wrap in a socket). */
  readonly isPipe: boolean;
  #fd: number;
  #stream: Writable | undefined;
  #wrapped: Writable | undefined;
  #closed = false;

  private constructor(
    kind: StreamKind,
    fd: number,
    stream: Writable | undefined,
    closing: boolean,
    isPipe: boolean,
  ) {
    this.kind = kind;
    this.#fd = fd;
    this.#stream = stream;
    this.closing = closing;
    this.isPipe = isPipe;
  }

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

  /** The fd, or -1 (not an fd, or already handed over or closed). */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  /** The caller's stream, or the one `writable()` made; undefined when neither exists. */
  get stream(): Writable | undefined {
    return this.#wrapped ?? this.#stream;
  }

  /** Whether `close()` (or `abort()`) has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A Node Writable over this end, for a function stage. Ending it ends what this end owns; a
   * borrowed stream is wrapped so that ending the wrapper flushes but never ends the caller's
   * stream. Nothing becomes a stream that discards what it is given.
   */
  writable(): Writable {
    if (this.#wrapped) return this.#wrapped;
    let w: Writable;
    if (this.#closed || this.kind === 'none') {
      w = new Writable({
        write(_chunk, _enc, cb) {
          cb();
        },
      });
    } else if (this.#stream) {
      w = this.closing ? this.#stream : borrowWritable(this.#stream);
    } else if (this.isPipe && this.closing) {
      w = socketForPipeWrite(this.#fd);
      this.#fd = -1;
    } else {
      w = createWriteStream('', { fd: this.#fd, autoClose: this.closing });
      this.#fd = -1;
    }
    w.on('error', swallow);
    this.#wrapped = w;
    return w;
  }

  /**
   * Hands the fd over to whoever will close it (a child's stdio that the caller closes right after
   * spawning, a socket). Afterwards `close()` leaves the fd alone. Returns -1 when there is none.
   */
  takeFd(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /**
   * Closes (owned) or lets go of (borrowed) what this end holds. An owned stream is ended (so
   * what was written is flushed), not destroyed; use `abort()` to drop it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#wrapped ?? this.#stream;
    if (w && (this.closing || w !== this.#stream) && !w.writableEnded && !w.destroyed) {
      w.on('error', swallow);
      w.end();
    } else if (!w && this.#fd >= 0 && this.closing) {
      // The fd (if any) of a stream belongs to it: closed through it, never under it.
      closeQuietly(this.#fd);
    }
    this.#fd = -1;
  }

  /** Closes without flushing: an owned stream is destroyed. Idempotent. */
  abort(error?: Error): void {
    const w = this.#wrapped ?? this.#stream;
    if (!this.#closed && w && (this.closing || w !== this.#stream)) {
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
