/**
 * The dashboard off costs nothing: a daemon started without --http has loaded no HTTP module
 * (node:http, ws, prom-client). The same check on a daemon with --http finds them, so the test
 * can tell the two apart.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SessionsClient } from '../../src/sessions/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_ARGS, ROOT, tempDir } from '../sessions/daemon-harness.js';

interface Loaded {
  builtins: string[];
  packages: string[];
}

async function loadedModules(extra: string[]): Promise<Loaded> {
  const dir = tempDir('mods');
  const socket = join(dir, 'd.sock');
  const out = join(dir, 'modules.json');
  const child = spawn(
    process.execPath,
    [
      '--import',
      join(ROOT, 'test/dashboard/fixtures/report-modules.mjs'),
      ...CLI_ARGS,
      'daemon',
      '--socket',
      socket,
      ...extra,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, SLUICE_TEST_MODULES_OUT: out },
    },
  );
  let printed = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    printed += t;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitFor(
      async () => {
        try {
          const c = await SessionsClient.connect({ socketPath: socket, timeoutMs: 2000 });
          await c.close();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, message: 'the daemon to answer' },
    );
    // The socket answers first; the dashboard is up once its address is printed.
    if (extra.includes('--http')) {
      await waitFor(() => printed.includes('sluice dashboard: http://'), {
        timeoutMs: 30_000,
        message: 'the dashboard address',
      });
    }
    child.kill('SIGUSR2');
    const text = await waitFor(() => {
      try {
        return readFileSync(out, 'utf8');
      } catch {
        return undefined;
      }
    });
    return JSON.parse(text) as Loaded;
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

const HTTP_BUILTINS = ['http', '_http_server'];
const HTTP_PACKAGES = [/[/\\]node_modules[/\\]ws[/\\]/, /[/\\]node_modules[/\\]prom-client[/\\]/];

describe('dashboard cost when off', () => {
  it(
    'a daemon without --http loads no HTTP module; with --http it does',
    withLeakCheck(async () => {
      const off = await loadedModules([]);
      for (const b of HTTP_BUILTINS) assert.ok(!off.builtins.includes(b), `node:${b} loaded`);
      for (const p of HTTP_PACKAGES) {
        assert.ok(!off.packages.some((f) => p.test(f)), `${p} loaded`);
      }
      const on = await loadedModules(['--http', '0']);
      for (const b of HTTP_BUILTINS) assert.ok(on.builtins.includes(b), `node:${b} not seen`);
      for (const p of HTTP_PACKAGES)
        assert.ok(
          on.packages.some((f) => p.test(f)),
          `${p} not seen`,
        );
    }),
  );
});
