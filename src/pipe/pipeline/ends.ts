/**
 * The ends of a pipeline's edges, made as the stages start: the pipe after stage i is created
 * just before stage i starts, and the parent holds its read end only until stage i + 1 takes it.
 * So the parent never holds more than a couple of pipe fds at once, and a pipeline of 600
 * commands runs under `ulimit -n 1024`, as in bash.
 */

import { constants as osConstants } from 'node:os';
import { Readable, type Writable } from 'node:stream';
import { createPipes, PipeCreateError } from '../../proc/index.js';
import { StageStartError } from '../errors.js';
import type { StagePreferences } from '../stage.js';
import { memoryPipe } from './memory-pipe.js';
import type { EdgeKind } from './negotiate.js';
import type { PipelineOptions } from './options.js';
import { autoPipeSize, releasePipeBytes, reservePipeBytes } from './pipe-size.js';
import { fdOfStream, InputStream, OutputStream } from './streams.js';

/** What the last edge leads to. */
export type StdoutMode = 'none' | 'caller' | 'capture';

/**
 * Hands out the two ends of every edge, in stage order. Owns every end it made and has not
 * handed out; `closeRest()` closes those.
 */
export class Ends {
  readonly #edges: readonly EdgeKind[];
  readonly #prefs: readonly StagePreferences[];
  readonly #options: PipelineOptions;
  readonly #pipeSize: number | 'auto';
  readonly #stdoutMode: StdoutMode;
  /** The reader side of an edge made with the stage before it, waiting for its stage. */
  #pending: InputStream | undefined;
  #pendingEdge = -1;
  #capture: Readable | undefined;
  #callerStdoutTaken = false;
  /** Bytes reserved from the enlarged-pipe budget, given back by `release()`. */
  #reserved = 0;

  constructor(
    edges: readonly EdgeKind[],
    prefs: readonly StagePreferences[],
    options: PipelineOptions,
    pipeSize: number | 'auto',
    stdoutMode: StdoutMode,
  ) {
    this.#edges = edges;
    this.#prefs = prefs;
    this.#options = options;
    this.#pipeSize = pipeSize;
    this.#stdoutMode = stdoutMode;
  }

  /** The reader the pipeline's `output()`/`lines()` read (an empty one when never made). */
  get capture(): Readable | undefined {
    return this.#capture;
  }

  /** Stage `i`'s stdin: the reader side of edge `i`. */
  input(i: number): InputStream {
    if (this.#pendingEdge === i && this.#pending) {
      const inp = this.#pending;
      this.#pending = undefined;
      this.#pendingEdge = -1;
      return inp;
    }
    const kind = this.#edges[i];
    if (i === 0 && kind === 'caller') return this.#callerStdin();
    return InputStream.none();
  }

  /**
   * Stage `i`'s stdout: the writer side of edge `i + 1`, made now. Throws `StageStartError`
   * naming `stage` when the kernel refuses a pipe (out of fds: `EMFILE`).
   */
  output(i: number, stage: string): OutputStream {
    const e = i + 1;
    const kind = this.#edges[e];
    const last = e === this.#edges.length - 1;
    if (kind === 'caller') {
      this.#callerStdoutTaken = true;
      return this.#callerStdout();
    }
    if (kind === 'kernel') {
      const size = this.#sizeFor(e);
      let pair: ReturnType<typeof createPipes>[number];
      try {
        pair = createPipes(1, size ? { size } : {})[0]!;
      } catch (cause) {
        if (size && this.#pipeSize === 'auto') this.#unreserve(size);
        throw pipeStartError(stage, cause);
      }
      this.#park(e, InputStream.fd(pair.readFd, { closing: true, isPipe: true }), last);
      return OutputStream.fd(pair.writeFd, { closing: true, isPipe: true });
    }
    if (kind === 'memory') {
      const mp = memoryPipe();
      this.#park(e, InputStream.stream(mp.readable, { closing: true }), last);
      return OutputStream.stream(mp.writable, { closing: true });
    }
    return OutputStream.none();
  }

  /**
   * Closes every end made and not handed out, and lets go of the caller's stdout (closing it
   * where `closeStdout` says so) when no stage took it. The capture reader, if any stage was to
   * feed it but none did, becomes an empty stream.
   */
  closeRest(): void {
    this.#pending?.close();
    this.#pending = undefined;
    if (!this.#callerStdoutTaken && this.#stdoutMode === 'caller') {
      this.#callerStdoutTaken = true;
      if (this.#options.closeStdout) this.#callerStdout().close();
    }
    if (this.#stdoutMode === 'capture' && !this.#capture) this.#capture = Readable.from([]);
  }

  /** Gives back the enlarged-pipe budget once the pipeline's children are gone. */
  release(): void {
    if (this.#reserved > 0) releasePipeBytes(this.#reserved);
    this.#reserved = 0;
  }

  #park(edge: number, reader: InputStream, last: boolean): void {
    if (last) {
      // Only the capture edge has no stage after it.
      this.#capture = reader.readable();
      return;
    }
    this.#pending = reader;
    this.#pendingEdge = edge;
  }

  /** The buffer size for the kernel pipe of edge `e`, or 0 for the kernel's default. */
  #sizeFor(e: number): number {
    if (this.#pipeSize !== 'auto') return this.#pipeSize;
    const before = this.#prefs[e - 1];
    const after = this.#prefs[e];
    // Only between two commands: a function reads and writes 64 KiB at a time anyway.
    if (before?.stdout !== 'fd' || after?.stdin !== 'fd') return 0;
    const size = autoPipeSize();
    if (size === 0 || !reservePipeBytes(size)) return 0;
    this.#reserved += size;
    return size;
  }

  #unreserve(size: number): void {
    releasePipeBytes(size);
    this.#reserved -= size;
  }

  #callerStdin(): InputStream {
    const s = this.#options.stdin;
    if (typeof s === 'number') return InputStream.fd(s, { closing: false });
    if (typeof s === 'string' || s instanceof Uint8Array) {
      return InputStream.stream(Readable.from([Buffer.from(s)]), { closing: true });
    }
    if (s && typeof (s as Readable).on === 'function') {
      const fd = fdOfStream(s);
      if (fd !== undefined) return InputStream.fd(fd, { closing: false, stream: s });
      return InputStream.stream(s, { closing: false });
    }
    return InputStream.none();
  }

  #callerStdout(): OutputStream {
    const s = this.#options.stdout;
    const closing = this.#options.closeStdout === true;
    if (typeof s === 'number') return OutputStream.fd(s, { closing });
    if (s && typeof (s as Writable).write === 'function') {
      const fd = fdOfStream(s);
      if (fd !== undefined) return OutputStream.fd(fd, { closing, stream: s });
      return OutputStream.stream(s, { closing });
    }
    return OutputStream.none();
  }
}

/** The errno name behind a failed pipe creation (`EMFILE`, `ENFILE`, …), if it can be told. */
export function errnoOf(error: unknown): string | undefined {
  for (let e = error, d = 0; e && d < 8; e = (e as { cause?: unknown }).cause, d++) {
    for (const key of ['errno', 'code'] as const) {
      const v = (e as { errno?: unknown; code?: unknown })[key];
      if (typeof v === 'string' && /^E[A-Z]+$/.test(v)) return v;
    }
    const m = /errno (\d+)/.exec(String((e as { message?: unknown }).message ?? ''));
    if (m) {
      const n = Number(m[1]);
      const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
      if (name) return name;
    }
  }
  return undefined;
}

/** Out of fds, files or processes: the errors that say "try again with fewer". */
export const RESOURCE_ERRNOS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN']);

/** The `StageStartError` for a pipe the kernel would not make for `stage`. */
export function pipeStartError(stage: string, cause: unknown): StageStartError {
  const errno = errnoOf(cause);
  const resources = errno !== undefined && RESOURCE_ERRNOS.has(errno);
  const what =
    errno === 'EMFILE'
      ? 'too many open files in this process (EMFILE)'
      : errno === 'ENFILE'
        ? 'too many open files in the system (ENFILE)'
        : errno
          ? errno
          : cause instanceof PipeCreateError
            ? cause.message
            : String(cause);
  return new StageStartError(stage, `cannot create a pipe: ${what}`, errno, {
    cause,
    reason: resources ? 'resources' : 'other',
  });
}
