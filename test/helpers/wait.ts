/** Waiting on conditions in tests: a polled deadline instead of a bare sleep. */

/**
 * Resolves with the first truthy value `probe` returns, polling with a backoff (1 ms up to
 * 50 ms); rejects with `message` once `timeoutMs` passes.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: { timeoutMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + (options.timeoutMs ?? 5000);
  let delay = 1;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (performance.now() >= deadline) {
      throw new Error(`timed out: ${options.message ?? 'condition never held'}`);
    }
    await new Promise<void>((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Resolves when `emitter` emits `event` (first argument), rejecting after `timeoutMs`. */
export function once<T = unknown>(
  emitter: NodeJS.EventEmitter,
  event: string,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeoutMs);
    const on = (value: T) => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, on);
  });
}
