/**
 * toc's pipeline example in sluice, modelled on an indexer: start → batcher → pipe → pipe, with
 * error passthrough and waiting in reverse order. Item 3 fails in the first stage
 * (continueOnError keeps the stage going); its error travels down the data plane.
 * Prints (the error may come before or after the first batch; see docs/flow.md):
 *   error: bad input: 3
 *   store(embed[chunk(1)+chunk(2)])
 *   store(embed[chunk(4)+chunk(5)])
 * Run: npx tsx examples/flow-pipeline.ts
 */
import { batcher, start, startFrom } from '../src/flow/index.js'; // in your project: 'sluice/flow'

// Stage 1: "chunk" each number into a string.
const chunkFn = (n: number) => {
  if (n === 3) throw new Error('bad input: 3');
  return `chunk(${n})`;
};
const chunker = start(chunkFn, { capacity: 5, continueOnError: true });

// Stage 2: batch strings into groups of 2.
const batched = batcher(chunker.out(), 2);

// Stage 3: "embed" each batch by joining.
const embedFn = (batch: string[]) => `embed[${batch.join('+')}]`;
const embedder = startFrom(batched.out(), embedFn);

// Stage 4: "store".
const storeFn = (s: string) => `store(${s})`;
const storer = startFrom(embedder.out(), storeFn);

// Feed the head stage.
void (async () => {
  try {
    for (const n of [1, 2, 3, 4, 5]) await chunker.submit(n);
  } catch {
    // ErrClosed: stop feeding.
  } finally {
    chunker.closeInput();
  }
})();

// Drain the tail.
for await (const r of storer.out()) {
  if (!r.ok) console.log('error:', (r.error as Error).message);
  else console.log(r.value);
}

// Wait in reverse order (recommended).
await storer.wait();
await embedder.wait();
await batched.wait();
await chunker.wait();
