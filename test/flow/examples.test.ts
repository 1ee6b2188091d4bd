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
    "the seed's three examples print the seed's output (run side by side)",
    withLeakCheck(async () => {
      const [stage, pipe, pipeline] = await Promise.all([
        example('flow-stage'),
        example('flow-pipe'),
        example('flow-pipeline'),
      ]);
      assert.deepEqual(stage, ['aa', 'bb', 'cc']);
      assert.deepEqual(pipe, ['error: oops', '20', '40']);
      assert.deepEqual([...pipeline!].sort(), [
        'error: bad input: 3',
        'store(embed[chunk(1)+chunk(2)])',
        'store(embed[chunk(4)+chunk(5)])',
      ]);
    }),
  );
});
