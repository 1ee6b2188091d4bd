/**
 * Daemon shutdown tells every attached client how its session ended: the `exit` event (with the
 * session's `ExitInfo`) comes before `end: shutdown`, through the protocol, the client library
 * and `sluice attach`, which then exits with the session's own status.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import type { AttachEvent } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { CLI_ARGS, ROOT, startDaemon } from '../daemon-harness.js';

/** Exits 3 on SIGTERM: a soft stop with a status of its own. */
const POLITE = ['sh', '-c', "trap 'exit 3' TERM; echo up; while :; do sleep 0.05; done"];

describe('daemon shutdown and attached clients', () => {
  test(
    'an attached client gets its session exit (ExitInfo) before the end',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: POLITE });
        await waitFor(async () => (await c.snapshot(s.id)).data.toString() === 'up\n');
        const a = await c.attach(s.id);
        const events: AttachEvent[] = [];
        const reading = (async () => {
          for await (const ev of a) events.push(ev);
        })();
        d.child.kill('SIGTERM');
        await reading;
        const exit = events.find((e) => e.type === 'exit');
        assert.ok(exit && exit.type === 'exit', `an exit event, got ${JSON.stringify(events)}`);
        assert.deepEqual(exit.exitInfo, { exitCode: 3, signal: null, outcome: 'soft' });
        assert.equal(typeof exit.exitedAt, 'number');
        assert.equal(events.at(-1)?.type, 'exit', 'the exit is the last event');
        assert.equal(a.ended?.reason, 'shutdown');
        assert.deepEqual(a.ended?.exit, { exitCode: 3, signal: null, outcome: 'soft' });
        assert.deepEqual(await d.exited, { code: 0, signal: null });
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'sluice attach exits with the session status when the daemon shuts down',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: POLITE });
        const attach = spawn(
          process.execPath,
          [...CLI_ARGS, 'attach', '--socket', d.socket, s.id],
          {
            cwd: ROOT,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        attach.stdout.setEncoding('utf8').on('data', (t: string) => {
          stdout += t;
        });
        attach.stderr.setEncoding('utf8').on('data', (t: string) => {
          stderr += t;
        });
        const exited = new Promise<number | null>((r) => attach.once('close', (code) => r(code)));
        await waitFor(async () => (await c.get(s.id)).attachments.stdout?.writer === true, {
          timeoutMs: 20_000,
          message: 'sluice attach to be attached',
        });
        await waitFor(() => stdout.includes('up\n'), { message: 'the backlog on stdout' });
        d.child.kill('SIGTERM');
        assert.equal(await exited, 3, stderr);
        assert.match(stderr, /daemon shut down; session \S+ ended: soft \(exit 3\)/);
      } finally {
        await d.stop();
      }
    }),
  );
});
