/** Polling a condition with a backoff, for the things the kernel gives no event for. */

const MAX_POLL_MS = 50;

/**
 * Resolves true once `done()` holds, false when `timeoutMs` passes or `abort` fires first. Polls
 * at once, then with a backoff from 1 ms up to 50 ms; leaves no timer or listener behind.
 */
export function pollUntil(
  done: () => boolean,
  timeoutMs: number,
  abort?: AbortSignal,
): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = performance.now() + timeoutMs;
    let delay = 1;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: boolean) => {
      if (timer) clearTimeout(timer);
      abort?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = () => finish(false);
    const poll = () => {
      if (done()) return finish(true);
      const left = deadline - performance.now();
      if (left <= 0) return finish(false);
      timer = setTimeout(poll, Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_POLL_MS);
    };
    if (abort?.aborted) return finish(false);
    abort?.addEventListener('abort', onAbort, { once: true });
    poll();
  });
}
