/**
 * The one clock type every part of sluice accepts where time can be injected (tests use a fake).
 */

/**
 * A monotonic clock with timers. sluice only ever hands a timer's handle back to the same
 * clock's `clearTimeout`.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (`performance.now()` for the real clock). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by this clock's `setTimeout`; a handle already fired is a no-op. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `performance.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
