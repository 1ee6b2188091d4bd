/**
 * A daemon with 64 fds (`prlimit --nofile=64`), sessions running, and a flood of connections
 * that takes every fd it has: spawns fail as a typed error for that request only, the daemon
 * never dies, every running session survives and keeps writing, and spawning works again once
 * the flood is gone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { isRequestError, type SessionsClient } from '../../src/sessions/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { startDaemon } from '../sessions/daemon-harness.js';

const hasPrlimit = spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;

const TICKER = ['sh', '-c', 'while :; do echo tick; sleep 0.05; done'];

/** Opens `n` raw connections (no hello); resolves once each has connected or failed. */
async function flood(path: string, n: number): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket | undefined>((resolve) => {
          const s = connect(path);
          s.on('data', () => {});
          s.once('connect', () => resolve(s));
          s.once('error', () => {
            s.destroy();
            resolve(undefined);
          });
        }),
    ),
  );
  return sockets.filter((s): s is Socket => s !== undefined);
}

async function outputBytes(c: SessionsClient, id: string): Promise<number> {
  return (await c.get(id)).attachments.stdout?.bytes ?? 0;
}

describe('out of fds', () => {
  test(
    'under ulimit -n 64 and a connection flood, sessions survive and spawns resume',
    { skip: hasPrlimit ? false : 'prlimit (util-linux) is not installed' },
    withLeakCheck(
      async () => {
        // The cap is set far above the fd limit so that the fds, not the cap, run out.
        const d = await startDaemon({
          wrap: ['prlimit', '--nofile=64:64', '--'],
          args: ['--max-connections', '10000', '--hello-timeout', '60s'],
        });
        let sockets: Socket[] = [];
        try {
          const c = await d.client();
          const sessions = [];
          for (let i = 0; i < 3; i++) sessions.push(await c.spawn({ argv: TICKER }));

          sockets = await flood(d.socket, 120);
          // Every fd the daemon has is taken: a spawn needs pipes and fails, typed, alone.
          await waitFor(
            async () => {
              try {
                const extra = await c.spawn({ argv: ['true'] });
                await c.remove(extra.id, { force: true }).catch(() => {});
                return false;
              } catch (e) {
                assert.ok(isRequestError(e, 'spawn-failed'), `a typed refusal, got ${String(e)}`);
                assert.match((e as Error).message, /EMFILE|ENFILE|too many open files|resources/i);
                return true;
              }
            },
            { timeoutMs: 20_000, message: 'a spawn refused for want of fds' },
          );
          // The daemon is alive and serving, and every session still runs and writes.
          await c.ping();
          for (const s of sessions) {
            const before = await outputBytes(c, s.id);
            await waitFor(async () => (await outputBytes(c, s.id)) > before, {
              message: `session ${s.id} keeps writing`,
            });
            assert.equal((await c.get(s.id)).state, 'running');
          }

          for (const s of sockets) s.destroy();
          sockets = [];
          // With fds free again, spawning works.
          const back = await waitFor(
            async () => {
              try {
                return await c.spawn({ argv: ['sh', '-c', 'echo back'] });
              } catch (e) {
                if (isRequestError(e, 'spawn-failed')) return undefined;
                throw e;
              }
            },
            { timeoutMs: 20_000, message: 'spawns to work again' },
          );
          await waitFor(async () => (await c.snapshot(back.id)).data.toString() === 'back\n');
          assert.match(d.log(), /listening/);
          assert.doesNotMatch(d.log(), /internal error|shutting down/);
        } finally {
          for (const s of sockets) s.destroy();
          await d.stop();
        }
      },
      { timeoutMs: 15_000 },
    ),
  );
});
