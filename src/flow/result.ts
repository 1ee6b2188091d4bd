/**
 * `Result<T>`: one item on a flow channel, either a value or an error (toc's `rslt.Result`).
 * Channels between flow stages are `AsyncIterable<Result<T>>`, so errors travel beside values
 * (the data plane) instead of ending the stream.
 */

/** A value (`ok: true`) or an error (`ok: false`). Plain objects: cheap to make and to check. */
export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** An ok result carrying `value`. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** An error result carrying `error` (any thrown value; sluice's own errors are `Error`s). */
export function err<T = never>(error: unknown): Result<T> {
  return { ok: false, error };
}

/**
 * What a stage's `fn` (or a join's `combine`) threw when it was not an `Error`: sluice's panic.
 * A deliberate failure is an `Error` (or a subclass) and is passed through as is; anything else
 * thrown — a string, `undefined`, a plain object — is treated as a bug, wrapped here, and counted
 * in `Stats.panicked` as well as `Stats.failed`. `value` is what was thrown; `cause` is the same.
 */
export class PanicError extends Error {
  override readonly name = 'PanicError';
  readonly value: unknown;
  constructor(value: unknown) {
    super(`sluice/flow: fn threw a non-Error value: ${describe(value)}`, { cause: value });
    this.value = value;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The error result for a throw: `Error`s as they are, anything else wrapped in `PanicError`. */
export function errorOf(thrown: unknown): { error: unknown; panicked: boolean } {
  if (thrown instanceof Error) return { error: thrown, panicked: false };
  return { error: new PanicError(thrown), panicked: true };
}
