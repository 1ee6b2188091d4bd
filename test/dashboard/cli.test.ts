import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isRequestError } from '../../src/sessions/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { runCli, startDaemon, tempDir } from '../sessions/daemon-harness.js';
import { startDashboardDaemon } from './daemon.js';

describe('sluice dashboard and daemon --http', () => {
  it(
    'sluice dashboard prints the address the daemon printed; --json adds the token',
    withLeakCheck(async () => {
      const daemon = await startDashboardDaemon();
      try {
        const text = await runCli(['dashboard', '--socket', daemon.socket]);
        assert.equal(text.code, 0, text.stderr);
        assert.equal(text.stdout, `${daemon.url}\n`);
        const json = await runCli(['dashboard', '--json', '--socket', daemon.socket]);
        assert.deepEqual(JSON.parse(json.stdout), {
          url: daemon.url,
          origin: daemon.origin,
          token: daemon.token,
        });
        assert.match(daemon.log(), /dashboard at http:\/\/127\.0\.0\.1:\d+\//);
        assert.doesNotMatch(
          daemon.log(),
          new RegExp(daemon.token),
          'the log never holds the token',
        );
      } finally {
        await daemon.stop();
      }
    }),
  );

  it(
    'sluice dashboard fails with one line when the daemon runs without --http',
    withLeakCheck(async () => {
      const daemon = await startDaemon();
      try {
        const r = await runCli(['dashboard', '--socket', daemon.socket]);
        assert.equal(r.code, 1);
        assert.equal(
          r.stderr,
          'sluice: the daemon runs without a dashboard: start it with sluice daemon --http PORT\n',
        );
        assert.equal(r.stdout, '');
        // The protocol without a dashboard: samples are accepted and not shown; the address is null.
        const client = await daemon.client();
        const flow = {
          name: 'f',
          intervalMs: 1000,
          at: Date.now(),
          stages: ['a'],
          edges: [],
          drum: null,
          samples: {
            a: {
              submitted: 1,
              completed: 1,
              failed: 0,
              wip: 0,
              wipLimit: 1,
              queueLength: 0,
              queueCapacity: 1,
              workers: 1,
              serviceTimeMs: 1,
              serviceTime: null,
            },
          },
        };
        assert.deepEqual(await client.request({ op: 'publishFlow', flow }), { shown: false });
        assert.deepEqual(await client.dashboard(), { url: null, origin: null, token: null });
        await assert.rejects(
          client.request({ op: 'publishFlow', flow: { ...flow, drum: 'zzz' } }),
          (e: unknown) =>
            isRequestError(e, 'invalid') && /drum "zzz" is not one of the stages/.test(e.message),
        );
      } finally {
        await daemon.stop();
      }
    }),
  );

  it(
    'a non-loopback --http is refused with one line and leaves nothing behind',
    withLeakCheck(async () => {
      const dir = tempDir('dash-bad');
      const socket = join(dir, 'd.sock');
      try {
        const r = await runCli(['daemon', '--socket', socket, '--http', '0.0.0.0:0']);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /^sluice: --http: '0\.0\.0\.0' is not a loopback address; add --http-allow-remote/m,
        );
        assert.equal(existsSync(socket), false, 'no socket left');
        const bad = await runCli(['daemon', '--socket', socket, '--http', 'nope']);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /http: 'nope' is not a port from 0 to 65535/);
      } finally {
        const { rmSync } = await import('node:fs');
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  it(
    '--http-allow-remote listens on every interface and warns',
    withLeakCheck(async () => {
      const daemon = await startDashboardDaemon(['--http', '0.0.0.0:0', '--http-allow-remote']);
      try {
        assert.match(
          daemon.log(),
          /warning: the dashboard listens on 0\.0\.0\.0, reachable from other machines/,
        );
        assert.match(daemon.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=/);
      } finally {
        await daemon.stop();
      }
    }),
  );
});
