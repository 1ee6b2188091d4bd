/**
 * Draining a child's stderr line by line into callbacks. stderr is always read, so the child
 * never blocks on it; a callback that returns a promise pauses it until that settles, so a slow
 * async consumer bounds memory instead of queueing without end.
 */
import type { Readable } from 'node:stream';
import { ByteLineSplitter, lineText } from './line-splitter.js';

/** Where stderr lines go. */
export interface StderrSinks {
  /** Each line as text (see `lineText`). */
  onText?: ((line: string) => unknown) | undefined;
  /** Each line's exact bytes, without the `\n`. */
  onBytes?: ((line: Buffer) => unknown) | undefined;
  /** Longer lines are cut into pieces of at most this many bytes. */
  maxLineBytes: number;
}

/** A callback's failure surfaces on its own, as an uncaught exception (as a listener's would). */
function rethrow(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Handle of a stderr drain. */
export interface StderrDrain {
  /**
   * Stops pausing for pending callbacks (called once the child has exited): what is left in the
   * pipe is read and handed on at once, so a callback that never settles cannot hold the pipe.
   */
  release(): void;
  /**
   * Resolves once the stream has ended or closed and every line, the unfinished last one too,
   * has been handed to the sinks (their promises are not awaited).
   */
  readonly ended: Promise<void>;
}

/**
 * Reads `stream` until it ends or closes, handing every line to the sinks (the unfinished last
 * line too). With no sink the bytes are read and dropped without being split. While promises
 * returned by the sinks are pending the stream is paused (until `release()`): at most one
 * chunk's lines (64 KiB) are in flight beyond them.
 */
export function drainStderr(stream: Readable, sinks: StderrSinks): StderrDrain {
  const { onText, onBytes } = sinks;
  if (!onText && !onBytes) {
    stream.resume();
    return { release() {}, ended: streamEnded(stream) };
  }
  const split = new ByteLineSplitter(sinks.maxLineBytes, onBytes === undefined);
  let inFlight = 0;
  let released = false;
  const settled = () => {
    if (--inFlight === 0 && stream.isPaused()) stream.resume();
  };
  const call = (f: () => unknown) => {
    let r: unknown;
    try {
      r = f();
    } catch (e) {
      rethrow(e);
      return;
    }
    if (isThenable(r)) {
      inFlight++;
      r.then(settled, (e: unknown) => {
        settled();
        rethrow(e);
      });
    }
  };
  const emit = (line: Buffer, complete: boolean) => {
    if (onBytes) {
      const copy = Buffer.from(line);
      call(() => onBytes(copy));
    }
    if (onText) {
      const text = lineText(line, complete);
      call(() => onText(text));
    }
  };
  let ended = false;
  let resolveEnded!: () => void;
  const endedPromise = new Promise<void>((r) => {
    resolveEnded = r;
  });
  const end = () => {
    if (ended) return;
    ended = true;
    stream.off('data', data);
    split.end(emit);
    resolveEnded();
  };
  const data = (chunk: Buffer) => {
    split.push(chunk, emit);
    if (inFlight > 0 && !released) stream.pause();
  };
  stream.on('data', data);
  stream.once('end', end);
  stream.once('close', end);
  if (stream.destroyed || stream.readableEnded) end();
  return {
    ended: endedPromise,
    release() {
      released = true;
      if (!ended && stream.isPaused()) stream.resume();
    },
  };
}

/** Resolves once `stream` has ended or closed. */
function streamEnded(stream: Readable): Promise<void> {
  if (stream.destroyed || stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
  });
}
