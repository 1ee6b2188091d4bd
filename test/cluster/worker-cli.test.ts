/** `sluice worker`'s bad input: one clear line on stderr and a non-zero exit, nothing left. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '../../src/cluster/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const CLI = fileURLToPath(new URL('./fixtures/worker-cli.ts', import.meta.url));
const NO_DEFAULT = fileURLToPath(new URL('./fixtures/no-default.ts', import.meta.url));
const WORK = fileURLToPath(new URL('./fixtures/work.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('sluice worker: bad input', () => {
  it(
    'refuses a module without a default export function',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      const r = await run(['--servers', server.url, '--name', 'p', '--stage', 's', NO_DEFAULT]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /no-default\.ts has no default export function/);
    }),
  );

  it(
    'says which server it could not reach',
    withLeakCheck(async () => {
      // A port nothing listens on: take a free one from a server, then stop it.
      const server = await startNatsServer();
      const url = server.url;
      await server.stop();
      const r = await run(['--servers', url, '--name', 'p', '--stage', 's', WORK]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`cannot connect to ${url.replace(/[.]/g, '\\.')}`));
    }),
  );

  it(
    'refuses a bad stage name after connecting, and exits instead of hanging',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      const r = await run(['--servers', server.url, '--name', 'p', '--stage', 'a.b', WORK]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /stage: must be 1-64 letters, digits or "-" \(got "a\.b"\)/);
    }),
  );

  it(
    'refuses a bad --workers as a usage error',
    withLeakCheck(async () => {
      const r = await run([
        '--servers',
        'nats://127.0.0.1:1',
        '--name',
        'p',
        '--stage',
        's',
        '--workers',
        '0',
        WORK,
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /'0' is not a positive integer/);
    }),
  );
});
