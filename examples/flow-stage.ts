/**
 * toc's first example in sluice: one stage doubling strings, fed by a producer that closes the
 * input when done, drained by the main loop, then waited. Prints aa, bb, cc.
 * Run: npx tsx examples/flow-stage.ts
 */
import { start } from '../src/flow/index.js'; // in your project: 'sluice/flow'

// double concatenates a string with itself.
const double = (s: string) => s + s;

// The stage's signal (none here) governs its life; a submit's signal bounds only admission.
const stage = start(double, { capacity: 3, workers: 1 });

void (async () => {
  try {
    for (const item of ['a', 'b', 'c']) await stage.submit(item);
  } catch {
    // ErrClosed: the stage stopped taking input; nothing more to send.
  } finally {
    stage.closeInput();
  }
})();

for await (const result of stage.out()) {
  if (!result.ok) {
    console.log('error:', (result.error as Error).message);
    continue;
  }
  console.log(result.value);
}

try {
  await stage.wait();
} catch (error) {
  console.log('stage error:', (error as Error).message);
}
