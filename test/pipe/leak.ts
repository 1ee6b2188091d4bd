/**
 * The leak check for sluice/pipe's tests: `withLeakCheck`, except that temp entries made by
 * other parts' tests running at the same time (the checker looks at every `sluice-*` entry of
 * the OS temp dir) are not counted. The only temp entries sluice/pipe can make are the FIFO
 * fallback's `sluice-pipe-*` dirs, and those are still checked.
 */
import { assertNoLeaks, type LeakCheckOptions, snapshotResources } from '../helpers/leaks.js';

const OURS = /\/sluice-pipe-[^/]*$/;

export function withPipeLeakCheck<A extends unknown[]>(
  body: (...args: A) => Promise<void> | void,
  options: LeakCheckOptions = {},
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const before = snapshotResources();
    const check = async (timeoutMs: number) => {
      const now = snapshotResources();
      const foreign = now.tempEntries.filter((t) => !OURS.test(t));
      await assertNoLeaks(
        { ...before, tempEntries: [...before.tempEntries, ...foreign] },
        {
          ...options,
          timeoutMs,
        },
      );
    };
    try {
      await body(...args);
    } catch (error) {
      try {
        await check(Math.min(options.timeoutMs ?? 5000, 2000));
      } catch (leak) {
        process.stderr.write(`${(leak as Error).message}\n`);
      }
      throw error;
    }
    await check(options.timeoutMs ?? 5000);
  };
}
