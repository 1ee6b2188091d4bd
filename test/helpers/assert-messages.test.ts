import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLeakCheck } from './leaks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('a failing assert.ok without a message names its source line; the rest of ok is untouched', () => {
  const value: number = 0;
  assert.throws(
    () => assert.ok(value === 1),
    (e: Error & { actual?: unknown; operator?: string }) =>
      e instanceof assert.AssertionError &&
      e.message.includes('assert.ok(value === 1)') &&
      e.actual === false &&
      e.operator === '==' &&
      // The stack starts at the call, not inside the preload.
      /assert-messages\.test\.ts:\d+/.test(firstFrame(e)),
  );
  assert.throws(() => assert.ok(false, 'mine'), { message: 'mine' });
  assert.throws(() => (assert.ok as () => void)(), { message: /No value argument passed/ });
  assert.ok(1);
  assert.ok('x', 'not used');
});

/** The first `at` line of an error's stack. */
function firstFrame(e: Error): string {
  return (
    String(e.stack)
      .split('\n')
      .find((l) => /^\s+at /.test(l)) ?? ''
  );
}

test(
  'a failing assert.ok deep in a TypeScript test file fails at once (Node 20 alone took minutes)',
  withLeakCheck(() => {
    const dir = mkdtempSync(join(tmpdir(), 'assert-'));
    try {
      // A file whose transpiled form puts the failing call far along line 1: the case where Node
      // 20's own message parsed the TypeScript source from its top, expression after expression.
      const filler = Array.from(
        { length: 150 },
        (_, i) =>
          `export function f${i}(a: number, b: { c: string }): number {\n  return a + b.c.length + ${i};\n}\n`,
      ).join('');
      const file = join(dir, 'deep.ts');
      writeFileSync(
        file,
        `import assert from 'node:assert/strict';\n${filler}const total: number = f1(1, { c: 'x' });\nassert.ok(total === 0);\n`,
      );
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', './test/helpers/assert-messages.mjs', file],
        { cwd: root, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(child.signal, null, 'the child was not killed at the deadline');
      assert.equal(child.status, 1);
      assert.match(
        child.stderr,
        /The expression evaluated to a falsy value:\s+assert\.ok\(total === 0\);/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }),
);
