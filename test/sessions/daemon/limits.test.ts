/**
 * The daemon's limits on connections: past `maxConnections` a new one is refused with `busy`
 * (and served again once others leave); one that never says hello is closed after
 * `helloTimeoutMs`; a spawn the system refuses fails that request only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  InvalidOptionError,
  isRequestError,
  SessionDaemon,
  SessionsClient,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';

function tempSocket(): { dir: string; socketPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-limits-'));
  return { dir, socketPath: join(dir, 'd.sock') };
}

function rawConnect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    else s.once('close', () => resolve());
  });
}

describe('daemon limits', () => {
  test(
    'a connection past maxConnections is refused as busy, and served once others leave',
    withLeakCheck(async () => {
      const { dir, socketPath } = tempSocket();
      try {
        await using daemon = await SessionDaemon.start({
          socketPath,
          log: null,
          maxConnections: 2,
        });
        const a = await SessionsClient.connect({ socketPath });
        const b = await SessionsClient.connect({ socketPath });
        await assert.rejects(SessionsClient.connect({ socketPath }), (e: unknown) =>
          isRequestError(e, 'busy'),
        );
        await a.ping();
        await b.close();
        await waitFor(() => daemon.connectionCount === 1);
        await using c = await SessionsClient.connect({ socketPath });
        await c.ping();
        await a.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'a connection that never says hello is closed after helloTimeoutMs',
    withLeakCheck(async () => {
      const { dir, socketPath } = tempSocket();
      try {
        await using daemon = await SessionDaemon.start({
          socketPath,
          log: null,
          helloTimeoutMs: 200,
        });
        const silent = await rawConnect(socketPath);
        silent.on('data', () => {});
        silent.on('error', () => {});
        const t0 = performance.now();
        await closed(silent);
        assert.ok(performance.now() - t0 >= 150, 'not before the timeout');
        await waitFor(() => daemon.connectionCount === 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'bad daemon options are refused before anything is claimed',
    withLeakCheck(async () => {
      const { dir, socketPath } = tempSocket();
      try {
        for (const bad of [
          { maxConnections: 0 },
          { maxConnections: 1.5 },
          { helloTimeoutMs: -1 },
          { graceMs: -5 },
        ]) {
          await assert.rejects(
            SessionDaemon.start({ socketPath, log: null, ...bad }),
            InvalidOptionError,
            JSON.stringify(bad),
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
