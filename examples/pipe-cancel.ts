/**
 * Cancellation and memory limits: a timeout stops every command's process group (SIGTERM, then
 * SIGKILL after the grace); a memory limit kills a runaway command with a typed error. Run with
 * `npx tsx examples/pipe-cancel.ts`.
 */
import {
  command,
  MemoryLimitError,
  memoryLimit,
  PipelineError,
  pipeline,
} from '../src/pipe/index.js'; // in your project: 'sluice/pipe'

const slow = pipeline({ signal: AbortSignal.timeout(200), graceMs: 500 }).add(
  command('sh', ['-c', 'sleep 30 & sleep 30; wait']),
);
const t0 = performance.now();
await slow.run().catch((e: unknown) => {
  const err = e as PipelineError;
  console.log(`stopped after ${Math.round(performance.now() - t0)} ms:`, err.message);
});

const hog = `const b = Buffer.alloc(200 * 1024 * 1024, 1); setTimeout(() => b.length, 10000)`;
await pipeline({ onEvent: (e) => e.type === 'memory-limit' && console.log('event:', e) })
  .add(
    memoryLimit(command(process.execPath, ['-e', hog]), 50 * 1024 * 1024, {
      intervalMs: 50,
      // The peak it reached, the sample that passed the limit included.
      onPeak: (peak) => console.log(`peak: ${(peak.maxRssBytes / 2 ** 20).toFixed(0)} MiB`),
    }),
  )
  .run()
  .catch((e: unknown) => {
    if (e instanceof PipelineError && e.cause instanceof MemoryLimitError) {
      console.log('killed:', e.message);
    } else throw e;
  });
