/**
 * The command's start-up bundles: the code-cache loader the CommonJS bin uses, and the built bin
 * itself (dist/cli/sluice.cjs, when a build newer than every source file is there, as CI builds
 * before testing, or with `SLUICE_TEST_CLI=dist`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { CACHE_KEY_BYTES, requireWithCodeCache, wrapForCache } from '../../src/cli/code-cache.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { newestMtime } from '../sessions/daemon-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'dist/cli/sluice.cjs');

/** A scratch CommonJS bundle and, unless told otherwise, its code cache under its own key. */
function bundle(dir: string, name: string, body: string, cache: 'good' | 'other-key' | 'none') {
  const file = join(dir, name);
  writeFileSync(file, body);
  const key = createHash('sha256').update(body).digest('hex');
  if (cache !== 'none') {
    const data = new Script(wrapForCache(body), { filename: file }).createCachedData();
    const written = cache === 'good' ? key : 'f'.repeat(CACHE_KEY_BYTES);
    writeFileSync(`${file}.cache`, Buffer.concat([Buffer.from(written, 'latin1'), data]));
  }
  return { file, key };
}

describe('cli: the code-cache loader', () => {
  test('loads as require does, with a good cache, another build’s cache, or none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cc-'));
    try {
      for (const cache of ['good', 'other-key', 'none'] as const) {
        const body = `"use strict"; exports.answer = 42; exports.file = __filename; exports.strict = (function () { return this === undefined; })(); exports.req = typeof require('node:path').join;`;
        const { file, key } = bundle(dir, `${cache}.cjs`, body, cache);
        const m = requireWithCodeCache(file, key) as Record<string, unknown>;
        assert.deepEqual(m, { answer: 42, file, strict: true, req: 'function' }, cache);
        // Registered as require would: a second load (by either path) gives the same object.
        assert.equal(requireWithCodeCache(file, key), m);
        assert.equal(createRequire(file)(file), m);
        delete createRequire(file).cache[file];
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an error at load is thrown and the module is not left half-registered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cc-'));
    try {
      const { file, key } = bundle(dir, 'bad.cjs', 'throw new Error("boom at load");', 'good');
      assert.throws(() => requireWithCodeCache(file, key), /boom at load/);
      assert.equal(createRequire(file).cache[file], undefined);
      assert.throws(() => requireWithCodeCache(join(dir, 'missing.cjs'), key), { code: 'ENOENT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Run when the build is fresh, when `SLUICE_TEST_CLI=dist` says to use dist/ regardless, and
 * always in CI (which builds before it tests: a stale or missing build there is a failure).
 */
function binIsFresh(): boolean {
  if (process.env.SLUICE_TEST_CLI === 'dist' || process.env.CI) return true;
  try {
    return statSync(BIN).mtimeMs > newestMtime(join(ROOT, 'src'));
  } catch {
    return false;
  }
}

describe('cli: the built bin (dist/cli/sluice.cjs)', {
  skip: binIsFresh() ? false : 'no build newer than the sources (npm run build)',
}, () => {
  function bin(args: string[], env: NodeJS.ProcessEnv = {}) {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test(
    'serves --version, run and ls itself, and hands the rest to the ES module bundle',
    withLeakCheck(() => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
        bin: Record<string, string>;
      };
      assert.equal(join(ROOT, pkg.bin.sluice!), BIN);
      assert.deepEqual(bin(['--version']), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
      assert.deepEqual(bin(['run', 'printf "a\\nb\\n" | wc -l']), {
        code: 0,
        stdout: '2\n',
        stderr: '',
      });
      assert.equal(bin(['run', 'exit 3']).code, 3);
      const refused = bin(['run', 'if true; then :; fi']);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /'if' is not supported/);
      // run's options go through commander in the bin as well.
      assert.match(bin(['run', '--help']).stdout, /Usage: sluice run/);
      const dir = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
      try {
        const ls = bin(['ls'], { SLUICE_SOCKET: join(dir, 'none.sock') });
        assert.equal(ls.code, 1);
        assert.match(ls.stderr, /no sluice daemon answers at/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // Handed over: the whole program's help, usage errors, a subcommand's own usage error.
      assert.match(bin(['--help']).stdout, /completion <shell>/);
      const unknown = bin(['nosuch']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown command 'nosuch'/);
      assert.equal(bin(['spawn', '--rows', '3', '--', 'true']).code, 2);
    }),
  );
});
