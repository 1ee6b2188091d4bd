/**
 * Function stages between commands: kernel pipes on every command edge, a `linewise`
 * transform in the middle, an async function at the end. Run with
 * `npx tsx examples/pipe-functions.ts`.
 */
import { command, FinishEarly, fn, linewise, pipeline } from '../src/pipe/index.js'; // in your project: 'sluice/pipe'

let total = 0;
await pipeline()
  .add(
    command('seq', ['1', '1000000']),
    linewise('squares of multiples of 7', (line) => {
      const n = Number(line);
      return n % 7 === 0 ? String(n * n) : undefined;
    }),
    command('head', ['-n', '5']),
    fn('sum', async (_ctx, stdin) => {
      let text = '';
      for await (const chunk of stdin) text += chunk;
      for (const l of text.split('\n')) if (l) total += Number(l);
    }),
  )
  .run()
  .catch((e: unknown) => {
    // `head` stops reading after 5 lines; the linewise stage then gets a pipe error.
    console.log('as in a shell, upstream saw the reader go away:', (e as Error).message);
  });
console.log('sum of the first five:', total);

// A function stage can stop early on purpose: the stages before it are then forgiven.
const firstThree = await pipeline()
  .add(
    command('yes', ['row']),
    linewise('three rows', (line, ctx) => {
      if (ctx.lineNumber > 3) throw FinishEarly;
      return line;
    }),
  )
  .text();
console.log(firstThree);
