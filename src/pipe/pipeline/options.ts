/**
 * The options of `pipeline()`, checked once, with the deprecated names folded into the current
 * ones, before anything is created.
 */
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_GRACE_MS, InvalidOptionError } from '../../proc/index.js';
import type { PipeEvent, StageErrorHandler } from '../stage.js';
import type { ErrorRule } from './choose-error.js';

/** Options of `pipeline`. */
export interface PipelineOptions {
  /**
   * What the first stage reads: an fd (borrowed, never closed), a Readable (borrowed: its fd is
   * passed to a first command where it has one, else it is pumped), or a string or bytes.
   * @default nothing (a command reads /dev/null, a function an empty stream)
   */
  stdin?: number | Readable | string | Uint8Array;
  /**
   * Where the last stage writes: an fd or a Writable (its fd goes straight to a last command
   * where it has one; otherwise the output is copied through pooled 64 KiB buffers). Not with
   * `output()`, `text()`, `lines()`.
   * @default nothing (a command writes to /dev/null)
   */
  stdout?: number | Writable;
  /**
   * Close (end) `stdout` when the pipeline is done with it; otherwise it is borrowed.
   * @default false
   */
  closeStdout?: boolean;
  /**
   * Working directory of every stage (a stage's own relative `cwd` is resolved against it).
   * @default the process's
   */
  cwd?: string;
  /**
   * Variables set over `process.env` for every stage; `undefined` removes one.
   * @default {}
   */
  env?: Record<string, string | undefined>;
  /** Aborting it stops the pipeline: SIGTERM to every command's group, SIGKILL after `graceMs`. */
  signal?: AbortSignal;
  /**
   * Milliseconds between SIGTERM and SIGKILL when the pipeline stops its commands (`0`: SIGKILL
   * at once); also how long `wait()` keeps waiting for a function stage that ignores the stop
   * (then `StageStuckError`).
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /** @deprecated Use `graceMs` (the same, under sluice's one name); removed in 0.3. */
  killGraceMs?: number;
  /**
   * Most bytes `output()`/`text()` collect before failing with `MaxBufferError`.
   * @default 67108864 (64 MiB)
   */
  maxBufferBytes?: number;
  /** @deprecated Use `maxBufferBytes`; removed in 0.3. */
  maxBuffer?: number;
  /** Receives stage start/exit (with durations) and memory events. Exceptions are ignored. */
  onEvent?: (event: PipeEvent) => void;
  /** Turns exceptions thrown by function stages into their errors (go-pipe's panic handler). */
  onStageError?: StageErrorHandler;
  /**
   * Kernel buffer size of the pipes between stages (`F_SETPIPE_SZ`, Linux). `'auto'` enlarges
   * each pipe between two commands to `/proc/sys/fs/pipe-max-size` (at most 1 MiB), within a
   * per-process budget of 16 MiB of enlarged pipes (past it, pipes keep the kernel's size); a
   * number sets every kernel pipe of the pipeline to that size (the kernel rounds it up to a
   * power of two pages, and refuses more than pipe-max-size to unprivileged users); `0` keeps the
   * kernel's default (64 KiB).
   * @default 'auto'
   */
  pipeSize?: number | 'auto';
  /**
   * Which stage errors fail the pipeline (see `ErrorRule`): `'sluice'` is pipefail, except that
   * a stage ended by SIGPIPE/EPIPE is not a failure when every stage downstream of it
   * succeeded; `'go-pipe'` is go-pipe's rule (a pipe error fails the pipeline when nothing else
   * failed and no stage downstream finished early). Among failures, the one `wait()` reports is
   * chosen by go-pipe's rule under both.
   * @default 'sluice'
   */
  errorRule?: ErrorRule;
}

/** The default of `maxBufferBytes`: 64 MiB. */
export const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/** `PipelineOptions` after checking, with defaults applied and old names folded in. */
export interface ResolvedOptions {
  readonly raw: PipelineOptions;
  readonly graceMs: number;
  readonly maxBufferBytes: number;
  readonly pipeSize: number | 'auto';
  readonly errorRule: ErrorRule;
}

/**
 * Checks `options` and applies the defaults. Throws `InvalidOptionError` naming the first bad
 * option; nothing has been created then.
 */
export function resolveOptions(options: PipelineOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  const o = options;
  const graceMs = pick(o, 'graceMs', 'killGraceMs');
  const maxBufferBytes = pick(o, 'maxBufferBytes', 'maxBuffer');
  nonNegativeInteger('graceMs', graceMs);
  nonNegativeInteger('maxBufferBytes', maxBufferBytes);
  if (o.pipeSize !== undefined && o.pipeSize !== 'auto') {
    nonNegativeInteger('pipeSize', o.pipeSize);
  }
  if (o.errorRule !== undefined && o.errorRule !== 'sluice' && o.errorRule !== 'go-pipe') {
    throw new InvalidOptionError(
      'errorRule',
      `must be 'sluice' or 'go-pipe', got ${show(o.errorRule)}`,
    );
  }
  const s = o.stdin;
  if (
    s !== undefined &&
    typeof s !== 'string' &&
    !(s instanceof Uint8Array) &&
    !isFd(s) &&
    typeof (s as Readable).on !== 'function'
  ) {
    throw new InvalidOptionError('stdin', 'must be an fd, a Readable, a string or bytes');
  }
  const d = o.stdout;
  if (d !== undefined && !isFd(d) && typeof (d as Writable).write !== 'function') {
    throw new InvalidOptionError('stdout', 'must be an fd or a Writable');
  }
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || o.cwd === '')) {
    throw new InvalidOptionError('cwd', 'must be a non-empty string');
  }
  if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null)) {
    throw new InvalidOptionError('env', 'must be an object of strings');
  }
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\0')) {
      throw new InvalidOptionError('env', `invalid variable name ${JSON.stringify(k)}`);
    }
    if (v !== undefined && (typeof v !== 'string' || v.includes('\0'))) {
      throw new InvalidOptionError(`env.${k}`, 'must be a string without NUL, or undefined');
    }
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  }
  for (const name of ['onEvent', 'onStageError'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw new InvalidOptionError(name, 'must be a function');
    }
  }
  return {
    raw: o,
    graceMs: graceMs ?? DEFAULT_GRACE_MS,
    maxBufferBytes: maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES,
    pipeSize: o.pipeSize ?? 'auto',
    errorRule: o.errorRule ?? 'sluice',
  };
}

/** The new name's value, else the deprecated one's; both given and different is an error. */
function pick(
  o: PipelineOptions,
  name: 'graceMs' | 'maxBufferBytes',
  old: 'killGraceMs' | 'maxBuffer',
): number | undefined {
  const a = o[name];
  const b = o[old];
  if (a !== undefined && b !== undefined && a !== b) {
    throw new InvalidOptionError(name, `and its deprecated alias ${old} disagree (${a}, ${b})`);
  }
  return a ?? b;
}

function nonNegativeInteger(name: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidOptionError(name, `must be a non-negative integer, got ${show(v)}`);
  }
}

function isFd(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
