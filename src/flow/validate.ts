/**
 * Argument checks shared by flow's stages, operators and controllers. Each throws an
 * `InvalidOptionError` naming the option, before anything starts. Internal to flow.
 */
import { InvalidOptionError } from '../proc/index.js';

/** An `InvalidOptionError` for `option`: "<option>: <rule>, got <value>". */
export function invalid(option: string, rule: string, got: unknown): InvalidOptionError {
  return new InvalidOptionError(option, `${rule}, got ${describe(got)}`);
}

function describe(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Throws unless `n` is an integer >= `min`. */
export function checkInt(option: string, n: unknown, min: number): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw invalid(option, `must be an integer >= ${min}`, n);
  }
  return n;
}

/** Throws unless `s` is an AbortSignal (or undefined). */
export function checkSignal(option: string, s: unknown): AbortSignal | undefined {
  if (s === undefined) return undefined;
  if (!(s instanceof AbortSignal)) throw invalid(option, 'must be an AbortSignal', s);
  return s;
}

/** Throws unless `f` is a function. */
export function checkFunction<F>(option: string, f: F): F {
  if (typeof f !== 'function') throw invalid(option, 'must be a function', f);
  return f;
}

/** Throws unless `value` is a finite number > 0. */
export function assertPositive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(option, 'must be a finite number > 0', value);
  }
  return value;
}

/** Throws unless `value` is an integer >= `min`. */
export function assertInteger(option: string, value: unknown, min: number): number {
  return checkInt(option, value, min);
}

/** Throws unless `value` is a number in [0, 1]. */
export function assertFraction(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalid(option, 'must be a number in [0, 1]', value);
  }
  return value;
}
