/**
 * Copies between a kernel pipe and a Node stream, for the edges where a command meets a stream
 * that has no fd (go-pipe v2's `pooledCopy`). Reads go into 64 KiB buffers drawn from a small
 * pool instead of a fresh allocation per read; a buffer returns to the pool once the destination
 * has written it out (only for destinations known not to keep the chunk: files, sockets, TTYs;
 * any other Writable may keep a reference, so its buffers are left to the GC).
 */
import { WriteStream } from 'node:fs';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { socketForPipeWrite } from './streams.js';

/** Size of each pooled copy buffer. */
export const COPY_BUFFER_SIZE = 64 * 1024;
/** How many idle buffers the pool keeps (1 MiB). */
const MAX_IDLE = 16;

const idle: Buffer[] = [];
let created = 0;

function acquire(): Buffer {
  const b = idle.pop();
  if (b) return b;
  created++;
  return Buffer.allocUnsafeSlow(COPY_BUFFER_SIZE);
}

function release(b: Buffer): void {
  if (idle.length < MAX_IDLE) idle.push(b);
}

/** For tests and diagnostics: how many buffers were ever made, and how many are idle. */
export function copyPoolStats(): { created: number; idle: number; bufferSize: number } {
  return { created, idle: idle.length, bufferSize: COPY_BUFFER_SIZE };
}

/** Whether `dst` is done with a chunk once its write callback runs. */
function doesNotKeepChunks(dst: Writable): boolean {
  return dst instanceof WriteStream || dst instanceof net.Socket;
}

/** A copy in progress. */
export interface Copy {
  /** Resolves when the copy ended: undefined at EOF, or the error that stopped it. */
  readonly done: Promise<Error | undefined>;
  /** Number of bytes copied so far. */
  readonly bytes: number;
  /** Stops copying and closes the pipe end (the writer then gets SIGPIPE/EPIPE). */
  stop(): void;
}

/**
 * Copies everything from the read end `fd` of a sluice pipe (ownership moves here: it is closed
 * when the copy ends) into `dst`, with backpressure: reading pauses while `dst` is full. At EOF,
 * `dst` is ended when `end` is set, otherwise only flushed. When `dst` fails or closes first, the
 * pipe end is closed at once, so the writing command dies of SIGPIPE as in a shell.
 */
export function pooledCopy(fd: number, dst: Writable, options: { end: boolean }): Copy {
  return new PooledCopy(fd, dst, options.end);
}

/** The state of one `pooledCopy`: the socket over the pipe, the writes in flight, the end. */
class PooledCopy implements Copy {
  readonly done: Promise<Error | undefined>;
  readonly #dst: Writable;
  readonly #end: boolean;
  readonly #recycle: boolean;
  readonly #src: net.Socket;
  #bytes = 0;
  #pending = 0;
  #spare: Buffer | undefined;
  #finished = false;
  #eof = false;
  #firstError: Error | undefined;
  #resolveDone!: (e: Error | undefined) => void;
  readonly #onDstError = (err: Error) => {
    this.#firstError ??= err;
    this.#finish(err);
  };
  readonly #onDstClose = () => {
    if (!this.#eof || this.#pending > 0) {
      this.#finish(this.#firstError ?? new Error('destination closed before the end'));
    }
  };
  readonly #onDrain = () => {
    if (!this.#finished) this.#src.resume();
  };

  constructor(fd: number, dst: Writable, end: boolean) {
    this.#dst = dst;
    this.#end = end;
    this.#recycle = doesNotKeepChunks(dst);
    this.done = new Promise<Error | undefined>((r) => {
      this.#resolveDone = r;
    });
    this.#src = new net.Socket({
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => {
          this.#spare = acquire();
          return this.#spare;
        },
        // `buf` is the buffer the kernel just filled; the socket already asked for the next one.
        callback: (n: number, buf: Buffer) => this.#write(n, buf),
      },
    } as net.SocketConstructorOpts);
    this.#src.on('error', (err) => this.#finish(err));
    this.#src.on('end', () => {
      this.#eof = true;
      this.#maybeDone();
    });
    dst.on('error', this.#onDstError);
    dst.on('close', this.#onDstClose);
  }

  get bytes(): number {
    return this.#bytes;
  }

  stop(): void {
    this.#finish(this.#firstError);
  }

  /** Writes one filled buffer on; false pauses reading until the destination drains. */
  #write(n: number, buf: Buffer): boolean {
    this.#bytes += n;
    this.#pending++;
    const ok = this.#dst.write(buf.subarray(0, n), (err) => {
      if (err) this.#firstError ??= err;
      if (this.#recycle) release(buf);
      this.#pending--;
      this.#maybeDone();
    });
    if (ok) return true;
    this.#dst.once('drain', this.#onDrain);
    return false;
  }

  #maybeDone(): void {
    if (!this.#eof || this.#pending > 0 || this.#finished) return;
    if (this.#end) this.#dst.end(() => this.#finish(this.#firstError));
    else this.#finish(this.#firstError);
  }

  #finish(err?: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#dst.off('error', this.#onDstError);
    this.#dst.off('close', this.#onDstClose);
    this.#dst.off('drain', this.#onDrain);
    if (!this.#src.destroyed) this.#src.destroy();
    if (this.#spare) {
      release(this.#spare);
      this.#spare = undefined;
    }
    this.#resolveDone(err);
  }
}

/** A pump from a Node stream into a pipe's write end. */
export interface Pump {
  readonly done: Promise<void>;
  readonly bytes: number;
  /** Stops pumping and closes the pipe end; `src` is destroyed only when `destroySource`. */
  stop(): void;
}

/**
 * Pumps `src` into the write end `fd` of a sluice pipe (ownership moves here), with backpressure.
 * At the end of `src` the pipe is closed (the reader sees EOF). When the reader goes away
 * (EPIPE) or `stop()` is called, pumping stops and the pipe end is closed; `src` is destroyed
 * only when `destroySource` is set, so a caller's stream is never closed by sluice. A source
 * that never ends therefore cannot hang the pipeline: the command stage stops the pump when its
 * process exits.
 */
export function pumpToFd(src: Readable, fd: number, options: { destroySource: boolean }): Pump {
  const dst = socketForPipeWrite(fd);
  let bytes = 0;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const onData = (chunk: Buffer | string) => {
    bytes += chunk.length;
    if (!dst.write(chunk)) src.pause();
  };
  const onDrain = () => {
    if (!stopped) src.resume();
  };
  const onEnd = () => {
    cleanupSource();
    dst.end();
  };
  const onSrcError = () => stop();
  function cleanupSource() {
    src.off('data', onData);
    src.off('end', onEnd);
    src.off('error', onSrcError);
    dst.off('drain', onDrain);
    if (!src.destroyed && !src.readableEnded) src.pause();
  }
  function stop() {
    if (stopped) return;
    stopped = true;
    cleanupSource();
    if (options.destroySource) src.destroy();
    dst.destroy();
  }
  dst.on('close', () => {
    stopped = true;
    cleanupSource();
    if (options.destroySource && !src.destroyed) src.destroy();
    resolveDone();
  });
  dst.on('error', () => stop());
  dst.on('drain', onDrain);
  if (src.readableEnded) {
    dst.end();
  } else {
    src.on('data', onData);
    src.on('end', onEnd);
    src.on('error', onSrcError);
    src.resume();
  }
  return {
    done,
    get bytes() {
      return bytes;
    },
    stop,
  };
}
