/**
 * `Result<T>`: one item on a flow channel, either a value or an error (toc's `rslt.Result`).
 * Channels between flow stages are `AsyncIterable<Result<T>>`, so errors travel beside values
 * (the data plane) instead of ending the stream.
 */

/** A value (`ok: true`) or an error (`ok: false`). Plain objects: cheap to make and to check. */
export type Result<T> =
  | {
      /** True: a value. */
      readonly ok: true;
      /** The value. */
      readonly value: T;
    }
  | {
      /** False: an error. */
      readonly ok: false;
      /** The error (an `Error` for sluice's own, any thrown value otherwise). */
      readonly error: unknown;
    };

/** An ok result carrying `value`. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** An error result carrying `error` (any thrown value; sluice's own errors are `Error`s). */
export function err<T = never>(error: unknown): Result<T> {
  return { ok: false, error };
}

/**

/**
 * What a stage's `fn` (or a join's `combine`, or a `weight` function) threw when it was not an
 * `Error`: sluice's one panic rule (shared by every part). A deliberate failure is an `Error` and
 * is passed through as it is; anything else thrown — a string, `undefined`, `null`, a plain
 * object — is treated as a bug, wrapped in a `PanicError`, and counted in `Stats.panicked` as well
 * as `Stats.failed`. `value` is what was thrown; `cause` is the same.
 */
export { PanicError } from '../proc/index.js';
