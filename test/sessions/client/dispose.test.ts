/**
 * `await using` on everything the client side owns: leaving the block does what the docs say
 * close/detach/shutdown does, and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type ClientAttachment,
  ConnectionClosedError,
  SessionDaemon,
  SessionsClient,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { alive } from '../daemon-harness.js';

function tempSocket(): { dir: string; socketPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dispose-'));
  return { dir, socketPath: join(dir, 'd.sock') };
}

describe('await using', () => {
  test(
    'SessionsClient: leaving the block closes its connection',
    withLeakCheck(async () => {
      const { dir, socketPath } = tempSocket();
      try {
        await using daemon = await SessionDaemon.start({ socketPath, log: null });
        let kept: SessionsClient;
        {
          await using client = await SessionsClient.connect({ socketPath });
          await client.ping();
          kept = client;
          await waitFor(() => daemon.connectionCount === 1);
        }
        await assert.rejects(kept.ping(), ConnectionClosedError);
        await waitFor(() => daemon.connectionCount === 0, { message: 'the daemon saw it close' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'ClientAttachment: leaving the block detaches; the session keeps running',
    withLeakCheck(async () => {
      const { dir, socketPath } = tempSocket();
      try {
        await using daemon = await SessionDaemon.start({ socketPath, log: null });
        await using client = await SessionsClient.connect({ socketPath });
        const s = await client.spawn({ argv: ['sh', '-c', 'echo hi; exec sleep 60'] });
        let kept: ClientAttachment;
        {
          await using a = await client.attach(s.id);
          kept = a;
          assert.equal((await client.get(s.id)).attachments.stdout?.writer, true);
        }
        assert.equal(kept.ended?.reason, 'detached');
        const info = await client.get(s.id);
        assert.equal(info.state, 'running');
        assert.equal(info.attachments.stdout?.writer, false, 'the seat is free again');
        assert.ok(daemon.registry.get(s.id));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'SessionDaemon: leaving the block shuts it down: sessions stopped, socket removed',
    withLeakCheck(async () => {
      const { dir, socketPath } = tempSocket();
      try {
        let pid = 0;
        let kept: SessionDaemon;
        {
          await using daemon = await SessionDaemon.start({ socketPath, log: null, graceMs: 1000 });
          kept = daemon;
          const s = await daemon.registry.spawn({ argv: ['sleep', '60'] });
          pid = s.pid;
          assert.ok(alive(pid));
        }
        await kept.closed;
        assert.equal(alive(pid), false, 'the session is gone');
        assert.equal(existsSync(socketPath), false, 'the socket is gone');
        await assert.rejects(SessionsClient.connect({ socketPath }), /no sluice daemon answers/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
