/**
 * sluice/pipe basics: a shell-like pipeline without a shell, its output, its lines, and bash-like
 * early exit. Run with `npx tsx examples/pipe-basics.ts`.
 */
import { command, ignoreError, isPipeError, pipeline, sh } from '../src/pipe/index.js'; // in your project: 'sluice/pipe'

// Each ${value} is exactly one argv word: no quoting worries, no injection.
const pattern = 'needle; rm -rf /';
const count = await sh`printf ${'hay\nneedle; rm -rf /\nhay\n'} | grep -cF -- ${pattern}`.text();
console.log('matches:', count.trim());

// The same with the builder API, streaming the output line by line.
for await (const line of pipeline()
  .add(command('seq', ['3']), command('tac'))
  .lines()) {
  console.log('line', line);
}

// `yes | head -1` ends at once: `yes` dies of SIGPIPE, which is not a failure because the
// stage after it succeeded (the default errorRule, 'sluice').
const first = await pipeline()
  .add(command('yes'), command('head', ['-1']))
  .text();
console.log('first:', first.trim());

// Under go-pipe's rule that SIGPIPE would fail the pipeline; ignoreError forgives it per stage.
const strict = await pipeline({ errorRule: 'go-pipe' })
  .add(ignoreError(command('yes'), isPipeError), command('head', ['-1']))
  .text();
console.log('strict:', strict.trim());
