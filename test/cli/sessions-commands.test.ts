import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_ARGS, ROOT, runCli, startDaemon, tempDir } from '../sessions/daemon-harness.js';

/** A session that echoes one line and exits 7. */
async function c7(client: { spawn(o: { argv: string[] }): Promise<{ id: string }> }) {
  return (await client.spawn({ argv: ['sh', '-c', 'read l; echo "got $l"; exit 7'] })).id;
}

describe('sluice CLI against a live daemon', () => {
  test(
    'spawn, ls by originator, logs without consuming, send, --eof, stop, rm, purge',
    withLeakCheck(async () => {
      const d = await startDaemon();
      const s = ['--socket', d.socket];
      try {
        const client = await d.client();
        // spawn prints the id; the child sees --env and --cwd. (Independent commands run in
        // parallel: each CLI run costs a Node start.)
        const [a, b, sleeperInfo] = await Promise.all([
          runCli([
            'spawn',
            ...s,
            '--originator',
            'alpha',
            '--env',
            'GREETING=hi there',
            '--cwd',
            '/tmp',
            '--',
            'sh',
            '-c',
            'echo "$GREETING from $(pwd)"; echo oops >&2; cat',
          ]),
          runCli(['spawn', ...s, '--originator', 'beta', '--json', '--', 'true']),
          client.spawn({ argv: ['sleep', '60'], originator: 'alpha' }),
        ]);
        assert.equal(a.code, 0, a.stderr);
        const idA = a.stdout.trim();
        assert.match(idA, /^[0-9a-z]{10}$/);
        assert.equal(b.code, 0, b.stderr);
        const infoB = JSON.parse(b.stdout) as { id: string; originator: string; kind: string };
        assert.equal(infoB.originator, 'beta');
        assert.equal(infoB.kind, 'pipe');
        const sleeper = sleeperInfo.id;
        // Oldest first: the daemon's creation order (ids are random and say nothing of it).
        const listed = await client.list();
        const order = listed.map((x) => x.id);
        assert.deepEqual([...order].sort(), [idA, infoB.id, sleeper].sort());
        const created = listed.map((x) => x.createdAt);
        assert.deepEqual(
          created,
          [...created].sort((x, y) => x - y),
        );

        await waitFor(async () => (await client.get(infoB.id)).state === 'exited');
        await waitFor(async () => (await client.logs(idA, { stream: 'stderr' })).data.length > 0);
        await waitFor(async () => (await client.logs(idA)).data.length > 0);
        const [lsA, lsAll, l1, lErr] = await Promise.all([
          runCli(['ls', ...s, '--originator', 'alpha']),
          runCli(['ls', ...s, '--json']),
          runCli(['logs', ...s, idA]),
          runCli(['logs', ...s, idA, '--stderr']),
        ]);
        // ls, filtered by originator: a header, then alpha's sessions oldest first.
        assert.equal(lsA.code, 0, lsA.stderr);
        const lines = lsA.stdout.trim().split('\n');
        assert.match(lines[0]!, /^ID\s+PID\s+STATE\s+OUTCOME\s+RESTARTS\s+LAST EXIT\s+COMMAND$/);
        assert.deepEqual(
          lines.slice(1).map((l) => l.split(/\s+/)[0]),
          order.filter((x) => x !== infoB.id),
        );
        const rowA = lines.find((l) => l.startsWith(idA))!;
        assert.match(rowA, new RegExp(`^${idA}\\s+\\d+\\s+running\\s+-\\s+0\\s+-\\s+sh -c 'echo`));
        const lsJson = JSON.parse(lsAll.stdout) as {
          id: string;
          exitInfo: { outcome: string; exitCode: number } | null;
        }[];
        assert.deepEqual(
          lsJson.map((x) => x.id),
          order,
        );
        const jsonB = lsJson.find((x) => x.id === infoB.id)!;
        assert.equal(jsonB.exitInfo?.outcome, 'natural');
        assert.equal(jsonB.exitInfo?.exitCode, 0);

        // logs: the backlog, twice the same (not consumed), and stderr apart.
        assert.equal(l1.stdout, 'hi there from /tmp\n');
        assert.equal((await client.logs(idA)).data.toString(), l1.stdout, 'not consumed');
        assert.equal(lErr.stdout, 'oops\n');

        // send: TEXT gets a newline, -n none, - copies stdin byte for byte; --eof ends cat.
        assert.equal((await runCli(['send', ...s, idA, 'one'])).code, 0);
        assert.equal((await runCli(['send', ...s, '-n', idA, 'two'])).code, 0);
        const raw = await runCli(['send', ...s, idA, '-', '--eof'], { input: '\r\n\x00three' });
        assert.equal(raw.code, 0, raw.stderr);
        await waitFor(async () => (await client.get(idA)).state === 'exited');
        assert.equal(
          (await client.logs(idA)).data.toString('latin1'),
          'hi there from /tmp\none\ntwo\r\n\x00three',
        );

        const late = await runCli(['send', ...s, idA, 'more']);
        const refusedRun = runCli(['rm', ...s, sleeper]);
        const [refused, removed, soft] = await Promise.all([
          refusedRun,
          runCli(['rm', ...s, idA]),
          // stop (soft) once rm was refused: sleep dies of SIGTERM within the grace.
          refusedRun.then(() => runCli(['stop', ...s, sleeper, '--grace', '5s'])),
        ]);
        assert.equal(late.code, 1);
        assert.match(late.stderr, /^sluice: session \S+ has exited: cannot write to stdin\n$/);
        // rm: a running session is refused with one line; an exited one goes.
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /^sluice: session \S+ is still running[^\n]*\n$/);
        assert.equal(removed.stdout.trim(), idA);
        assert.equal(soft.code, 0, soft.stderr);
        assert.equal(soft.stdout, 'soft (signal SIGTERM)\n');

        // purge by originator: only beta's exited session goes; alpha's stays.
        const purged = await runCli(['purge', ...s, '--originator', 'beta', '--json']);
        assert.deepEqual(JSON.parse(purged.stdout), [infoB.id]);
        assert.deepEqual(
          (await client.list()).map((x) => x.id),
          [sleeper],
        );
        assert.deepEqual(await client.purge(), [sleeper]);
        assert.deepEqual(await client.list(), []);
      } finally {
        const r = await d.stop();
        assert.equal(r.code, 0, d.log());
      }
    }),
  );

  test(
    'stop escalates to SIGKILL for a child that ignores SIGTERM, and reports hard',
    withLeakCheck(async () => {
      const d = await startDaemon();
      const s = ['--socket', d.socket];
      try {
        const client = await d.client();
        const st = await client.spawn({
          argv: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 1; done"],
        });
        await waitFor(async () => (await client.logs(st.id)).data.toString() === 'ready\n');
        const t0 = performance.now();
        const hard = await runCli(['stop', ...s, st.id, '--grace', '300ms']);
        assert.equal(hard.code, 0, hard.stderr);
        assert.equal(hard.stdout, 'hard (signal SIGKILL)\n');
        assert.ok(performance.now() - t0 > 300, 'the grace was given');
        const json = await runCli(['stop', ...s, st.id, '--json']);
        assert.equal(JSON.parse(json.stdout).exitInfo.outcome, 'hard');
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'logs --follow prints the backlog, then live output, and ends at the exit; attach --steal, --read-only',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const client = await d.client();
        const sess = await client.spawn({
          argv: ['sh', '-c', 'echo first; while read l; do echo "got $l"; done; echo bye'],
        });
        await waitFor(async () => (await client.logs(sess.id)).data.length > 0);
        const follower = spawn(
          process.execPath,
          [...CLI_ARGS, 'logs', '--follow', '--socket', d.socket, sess.id],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        follower.stdout.setEncoding('utf8').on('data', (t: string) => {
          out += t;
        });
        const done = new Promise<number | null>((r) => follower.once('close', (c) => r(c)));
        await waitFor(() => out === 'first\n', { timeoutMs: 15_000, message: out });
        // A follower is a read-only viewer: a writer can still attach.
        const w = await client.attach(sess.id);
        w.write('a\n');
        await waitFor(() => out.includes('got a\n'), { message: out });
        w.eof();
        assert.equal(await done, 0);
        assert.equal(out, 'first\ngot a\nbye\n');
        for await (const _ of w) {
          // drain to the end
        }
        assert.equal(w.ended?.reason, 'exited');

        // attach --steal with stdin from a pipe: takes the seat from the writer attached now,
        // forwards stdin, prints the output and exits with the session's status.
        const seven = await c7(client);
        const holder = await client.attach(seven);
        const att = await runCli(['attach', '--steal', '--socket', d.socket, seven], {
          input: 'hi\n',
        });
        assert.equal((await holder.done).reason, 'stolen');
        assert.equal(att.stdout, 'got hi\n');
        assert.equal(att.code, 7, att.stderr);

        // attach --read-only sends nothing of its stdin; it watches what a writer causes.
        const watched = await c7(client);
        const viewer = runCli(['attach', '--read-only', '--socket', d.socket, watched], {
          input: 'ignored\n',
        });
        await waitFor(async () => (await client.get(watched)).attachments.stdout?.viewers === 1, {
          timeoutMs: 15_000,
        });
        await client.send(watched, 'yo\n');
        const ro = await viewer;
        assert.equal(ro.stdout, 'got yo\n');
        assert.equal(ro.code, 7, ro.stderr);
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'every error is one line on stderr with a non-zero exit; no daemon gives a hint',
    withLeakCheck(async () => {
      const dir = tempDir('noclient');
      try {
        const sock = join(dir, 'none.sock');
        const r = await runCli(['ls', '--socket', sock]);
        assert.equal(r.code, 1);
        assert.equal(
          r.stderr,
          `sluice: no sluice daemon answers at ${sock} (no socket there); start one with \`sluice daemon --detach --socket ${sock}\`\n`,
        );
        const envOnly = await runCli(['ls'], { env: { ...process.env, SLUICE_SOCKET: sock } });
        assert.equal(envOnly.code, 1);
        assert.match(envOnly.stderr, /start one with `sluice daemon --detach`\n$/);
        const badGrace = await runCli(['stop', 'x', '--grace', 'soon', '--socket', sock]);
        assert.notEqual(badGrace.code, 0);
        assert.match(badGrace.stderr, /'soon' is not a duration/);
      } finally {
        const { rmSync } = await import('node:fs');
        rmSync(dir, { recursive: true, force: true });
      }
      const d = await startDaemon();
      try {
        const s = ['--socket', d.socket];
        const unknown = await runCli(['logs', ...s, 'nosuchid']);
        assert.equal(unknown.code, 1);
        assert.equal(unknown.stderr, 'sluice: no session "nosuchid"\n');
        const missing = await runCli(['spawn', ...s, '--', 'no-such-program-xyz']);
        assert.equal(missing.code, 1);
        assert.equal(missing.stderr.split('\n').length, 2, missing.stderr);
        assert.match(missing.stderr, /^sluice: .*no-such-program-xyz/);
      } finally {
        await d.stop();
      }
    }),
  );
});
