/**
 * The seed's three examples, as runnable files in examples/, print the seed's output. The first
 * two are compared line for line; the pipeline's, like toc's own `// Unordered output:` check,
 * as a set of lines — whether the error of item 3 overtakes the first batch depends on timing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withLeakCheck } from '../helpers/leaks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

async function example(name: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
    cwd: root,
    timeout: 30_000,
  });
  return stdout.trimEnd().split('\n');
}

describe('flow examples', () => {
  test(
    'flow-stage prints aa bb cc',
    withLeakCheck(async () => {
      assert.deepEqual(await example('flow-stage'), ['aa', 'bb', 'cc']);
    }),
  );

  test(
    'flow-pipe prints error: oops, 20, 40',
    withLeakCheck(async () => {
      assert.deepEqual(await example('flow-pipe'), ['error: oops', '20', '40']);
    }),
  );

  test(
    'flow-pipeline prints the error and both stored batches',
    withLeakCheck(async () => {
      const lines = await example('flow-pipeline');
      assert.deepEqual([...lines].sort(), [
        'error: bad input: 3',
        'store(embed[chunk(1)+chunk(2)])',
        'store(embed[chunk(4)+chunk(5)])',
      ]);
    }),
  );
});
