/**
 * toc's Pipe example in sluice: error passthrough. The source holds ok(10), an error and ok(20);
 * the stage doubles ok values and forwards the error untouched (data plane: it does not fail the
 * stage). Prints: error: oops, 20, 40.
 * Run: npx tsx examples/flow-pipe.ts
 */
import { err, ok, startFrom } from '../src/flow/index.js'; // in your project: 'sluice/flow'

const source = [ok(10), err<number>(new Error('oops')), ok(20)];

// doubleFn doubles the input.
const doubleFn = (n: number) => n * 2;

const stage = startFrom(source, doubleFn);
for await (const r of stage.out()) {
  if (!r.ok) console.log('error:', (r.error as Error).message);
  else console.log(r.value);
}
await stage.wait();
// Forwarded errors bypass the worker queue (and go ahead of results waiting to be taken), so the
// error may arrive before queued ok results complete.
