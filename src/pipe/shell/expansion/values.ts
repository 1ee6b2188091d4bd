/**
 * What a template value may be, and how each kind is used: strings, numbers, bigints and
 * booleans are one word; an array standing alone is one word per element; a Stage standing alone
 * between pipes is that stage; bytes, a Readable, a Writable or a file handle are redirection
 * targets (`< ${buffer}`, `> ${stream}`, `2> ${handle}`). Nothing else is accepted.
 */
import type { Readable, Writable } from 'node:stream';
import type { Stage } from '../../stage.js';

/** A value that can be a redirection's source or destination. */
export type StreamValue =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'readable'; stream: Readable }
  | { kind: 'writable'; stream: Writable }
  | { kind: 'fd'; fd: number };

/** Whether `v` is a pipeline stage. */
export function isStage(v: unknown): v is Stage {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Stage).start === 'function' &&
    typeof (v as Stage).wait === 'function' &&
    'preferences' in v
  );
}

/** The value as one word, or undefined when it is not a scalar. */
export function scalarWord(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * The value as a redirection target, or undefined when it is not one. `direction` decides for a
 * Duplex (a PassThrough, a socket): read from after `<`, written to after `>`.
 */
export function streamValue(v: unknown, direction: 'in' | 'out' = 'in'): StreamValue | undefined {
  if (v instanceof Uint8Array) return { kind: 'bytes', data: v };
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  // A fs.promises FileHandle: a numeric fd and a close method; the caller keeps ownership.
  if (
    typeof o.fd === 'number' &&
    typeof o.close === 'function' &&
    typeof o.readFile === 'function'
  ) {
    return { kind: 'fd', fd: o.fd };
  }
  const writable = typeof o.write === 'function' && typeof o.end === 'function';
  if (direction === 'out' && writable) return { kind: 'writable', stream: v as Writable };
  if (typeof o.pipe === 'function' && typeof o.read === 'function') {
    return { kind: 'readable', stream: v as Readable };
  }
  if (typeof o.write === 'function' && typeof o.end === 'function') {
    return { kind: 'writable', stream: v as Writable };
  }
  return undefined;
}

/** How a message names a value's kind. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (isStage(v)) return 'a stage';
  if (streamValue(v)) return 'a stream or bytes';
  return typeof v === 'object' ? 'an object' : typeof v;
}
