/**
 * flow's typed errors. Each is a class, so callers test with `instanceof` (or `assert.rejects(p,
 * ErrClosed)`); each has a stable `code` for logs and for code that crosses realms.
 */

/**
 * `Stage.submit` rejects with ErrClosed when the stage no longer accepts input: after
 * `closeInput()`, after a fail-fast error, or after the stage's signal aborted. A submit that is
 * rejected produced no result.
 */
export class ErrClosed extends Error {
  override readonly name = 'ErrClosed';
  readonly code = 'ERR_SLUICE_FLOW_CLOSED';
  constructor() {
    super('sluice/flow: stage closed');
  }
}

/** `Stage.setWorkers` throws ErrStopping once the stage was aborted (fail-fast or signal) or finished. */
export class ErrStopping extends Error {
  override readonly name = 'ErrStopping';
  readonly code = 'ERR_SLUICE_FLOW_STOPPING';
  constructor() {
    super('sluice/flow: stage is stopping');
  }
}

/**
 * `Stage.submit` rejects with ErrWeightExceedsLimit, at once and without queueing, when the item's
 * weight is above the current `maxWIPWeight` (it could never be admitted). A waiting submit whose
 * weight is above a limit lowered later by `setMaxWIPWeight` is rejected the same way.
 */
export class ErrWeightExceedsLimit extends Error {
  override readonly name = 'ErrWeightExceedsLimit';
  readonly code = 'ERR_SLUICE_FLOW_WEIGHT_EXCEEDS_LIMIT';
  readonly weight: number;
  readonly limit: number;
  constructor(weight: number, limit: number) {
    super(`sluice/flow: item weight ${weight} exceeds maxWIPWeight ${limit}`);
    this.weight = weight;
    this.limit = limit;
  }
}

/** A `join` source ended without producing its one item; `source` says which side. */
export class MissingResultError extends Error {
  override readonly name = 'MissingResultError';
  readonly code = 'ERR_SLUICE_FLOW_MISSING_RESULT';
  readonly source: 'A' | 'B';
  constructor(source: 'A' | 'B') {
    super(`sluice/flow: join source ${source} closed without a result`);
    this.source = source;
  }
}

/** A bad argument: one clear message naming it, thrown before anything starts. */
export function badArgument(what: string, got: unknown): RangeError {
  return new RangeError(`sluice/flow: ${what}, got ${String(got)}`);
}

/** Throws unless `n` is an integer >= `min`. */
export function checkInt(name: string, n: unknown, min: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw badArgument(`${name} must be an integer >= ${min}`, n);
  }
  return n;
}

/** Throws unless `s` is an AbortSignal (or undefined). */
export function checkSignal(name: string, s: unknown): AbortSignal | undefined {
  if (s === undefined) return undefined;
  if (!(s instanceof AbortSignal))
    throw new TypeError(`sluice/flow: ${name} must be an AbortSignal`);
  return s;
}
