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
  const recycle = doesNotKeepChunks(dst);
  let bytes = 0;
  let pending = 0;
  let spare: Buffer | undefined;
  let finished = false;
  let resolveDone!: (e: Error | undefined) => void;
  const done = new Promise<Error | undefined>((r) => {
    resolveDone = r;
  });
  let eof = false;
  let firstError: Error | undefined;

  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    dst.off('error', onDstError);
    dst.off('close', onDstClose);
    dst.off('drain', onDrain);
    if (!src.destroyed) src.destroy();
    if (spare) {
      release(spare);
      spare = undefined;
    }
    resolveDone(err);
  };
  const onDstError = (err: Error) => {
    firstError ??= err;
    finish(err);
  };
  const onDstClose = () => {
    if (!eof || pending > 0) finish(firstError ?? new Error('destination closed before the end'));
  };
  const onDrain = () => {
    if (!finished) src.resume();
  };
  const maybeDone = () => {
    if (!eof || pending > 0 || finished) return;
    if (options.end) {
      dst.end(() => finish(firstError));
    } else {
      finish(firstError);
    }
  };

  const src = new net.Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: () => {
        spare = acquire();
        return spare;
      },
      callback: (n: number, buf: Buffer) => {
        // `buf` is the buffer the kernel just filled; the socket already asked for the next one.
        bytes += n;
        pending++;
        const chunk = buf.subarray(0, n);
        const ok = dst.write(chunk, (err) => {
          if (err) firstError ??= err;
          if (recycle) release(buf);
          pending--;
          maybeDone();
        });
        if (!ok) {
          dst.once('drain', onDrain);
          return false;
        }
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  src.on('error', (err) => finish(err));
  src.on('end', () => {
    eof = true;
    maybeDone();
  });
  dst.on('error', onDstError);
  dst.on('close', onDstClose);

  return {
    done,
    get bytes() {
      return bytes;
    },
    stop() {
      finish(firstError);
    },
  };
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
