/** The in-memory pipe between two function stages. */
import { Readable, Writable } from 'node:stream';
import { ClosedPipeError } from '../errors.js';

function swallow(): void {}

/**
 * An in-memory pipe between two function stages (go-pipe's io.Pipe, with one highWaterMark of
 * buffering). Ending the writer ends the reader; destroying the writer also gives the reader EOF
 * (what an upstream stage wrote before failing still arrives). Destroying the reader (the
 * downstream stage stopped reading) fails the writer's pending and later writes with
 * `ClosedPipeError`, which is a pipe error.
 */
export function memoryPipe(highWaterMark = 64 * 1024): { readable: Readable; writable: Writable } {
  let waiting: ((err?: Error | null) => void) | undefined;
  let readerGone = false;
  let eof = false;
  const pushEof = () => {
    if (eof || readerGone || readable.destroyed) return;
    eof = true;
    readable.push(null);
  };
  const readable = new Readable({
    highWaterMark,
    read() {
      const cb = waiting;
      waiting = undefined;
      cb?.();
    },
    destroy(err, cb) {
      readerGone = true;
      const w = waiting;
      waiting = undefined;
      w?.(new ClosedPipeError());
      cb(err);
    },
  });
  const writable = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      if (readerGone || readable.destroyed) return cb(new ClosedPipeError());
      if (readable.push(chunk)) cb();
      else waiting = cb;
    },
    writev(chunks, cb) {
      if (readerGone || readable.destroyed) return cb(new ClosedPipeError());
      let ok = true;
      for (const c of chunks) ok = readable.push(c.chunk);
      if (ok) cb();
      else waiting = cb;
    },
    final(cb) {
      pushEof();
      cb();
    },
    destroy(err, cb) {
      pushEof();
      const w = waiting;
      waiting = undefined;
      w?.(err ?? new ClosedPipeError());
      cb(err);
    },
  });
  readable.on('error', swallow);
  writable.on('error', swallow);
  return { readable, writable };
}
