import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { test } from 'node:test';

test('each test process has a private temp dir that its children inherit', () => {
  assert.match(basename(tmpdir()), new RegExp(`^test-tmp-${process.pid}-`));
  const child = spawnSync(process.execPath, ['-e', 'console.log(require("os").tmpdir())'], {
    encoding: 'utf8',
  });
  assert.equal(child.stdout.trim(), tmpdir());
});
