/**
 * koffi's prebuilt binary is loaded directly where the choice is certain (a third of
 * `require('koffi')`'s cost on every `sluice run`), found from sluice's own folder without
 * `require.resolve`, and what it loads makes real pipes.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { loadNative } from '../../src/proc/fd/native.js';

const certain =
  (process.platform === 'linux' &&
    process.arch === 'x64' &&
    !existsSync('/lib/ld-musl-x86_64.so.1')) ||
  process.platform === 'darwin';

test('loadNative: the platform binary straight from its package, and pipe2 works', () => {
  const native = loadNative();
  assert.ok(native, 'koffi loads');
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  if (certain) {
    assert.ok(
      loaded.some((f) => /@koromix[\\/]koffi-[^\\/]+[\\/][^\\/]+[\\/]koffi\.node$/.test(f)),
      `the prebuilt binary is loaded: ${loaded.filter((f) => f.includes('koffi')).join(', ')}`,
    );
    assert.ok(
      !loaded.some((f) => /[\\/]koffi[\\/]index\.c?js$/.test(f)),
      "koffi's own loader is not",
    );
  }
  const fds = [-1, -1];
  assert.equal(native.pipe(fds), 0);
  assert.ok(fds[0]! > 2 && fds[1]! > 2 && fds[0] !== fds[1]);
  closeSync(fds[0]!);
  closeSync(fds[1]!);
});
