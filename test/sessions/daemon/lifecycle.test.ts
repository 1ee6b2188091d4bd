import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { descendants } from '../../../src/proc/index.js';
import { defaultSocketPath } from '../../../src/sessions/wire/socket-path.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { alive, runCli, startDaemon, tempDir } from '../daemon-harness.js';

/** A node binary that uid 65534 can run, or undefined. */
function nodeForNobody(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const candidate of [process.execPath, '/usr/bin/node', '/usr/local/bin/node']) {
    const r = spawnSync(
      'setpriv',
      ['--reuid', '65534', '--regid', '65534', '--clear-groups', candidate, '-e', '0'],
      { stdio: 'ignore' },
    );
    if (r.status === 0) return candidate;
  }
  return undefined;
}

describe('the daemon process', () => {
  test('defaultSocketPath: $SLUICE_SOCKET, else XDG_RUNTIME_DIR, else /tmp/sluice-<uid>', () => {
    assert.equal(
      defaultSocketPath({ SLUICE_SOCKET: '/x/y.sock', XDG_RUNTIME_DIR: '/run/u' }),
      '/x/y.sock',
    );
    assert.equal(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/u' }), '/run/u/sluice/daemon.sock');
    assert.equal(defaultSocketPath({}), `/tmp/sluice-${process.getuid?.() ?? 0}/daemon.sock`);
  });

  test(
    'folder 0700 and socket 0600; another user cannot connect',
    withLeakCheck(async () => {
      const dir = tempDir('perm');
      // A world-traversable path, so only the socket's own mode keeps others out.
      chmodSync(dir, 0o755);
      const open = join(dir, 'open');
      mkdirSync(open, { mode: 0o755 });
      chmodSync(open, 0o755);
      const d = await startDaemon({ dir, socket: join(open, 'd.sock') });
      try {
        assert.equal(statSync(open).mode & 0o777, 0o755, 'a folder the user chose is left as is');
        assert.equal(statSync(d.socket).mode & 0o777, 0o600);
        assert.ok(statSync(d.socket).isSocket());
        // A folder the daemon creates is 0700.
        const nested = join(dir, 'made', 'sluice', 'd.sock');
        const d2 = await startDaemon({ dir, socket: nested });
        assert.equal(statSync(join(dir, 'made', 'sluice')).mode & 0o777, 0o700);
        assert.equal(statSync(join(dir, 'made')).mode & 0o777, 0o700);
        assert.equal(statSync(nested).mode & 0o777, 0o600);
        d2.child.kill('SIGTERM');
        await d2.exited;

        const node = nodeForNobody();
        if (!node) {
          test.skip?.('cannot switch uid here (not root, or no node runnable by nobody)');
          return;
        }
        const probe = `require('net').connect(${JSON.stringify(d.socket)})
          .on('connect', () => { console.log('CONNECTED'); process.exit(0); })
          .on('error', (e) => { console.log(e.code); process.exit(0); });`;
        const r = spawnSync(
          'setpriv',
          ['--reuid', '65534', '--regid', '65534', '--clear-groups', node, '-e', probe],
          { encoding: 'utf8' },
        );
        assert.equal(r.stdout.trim(), 'EACCES', r.stderr);
        // The same probe as root (the owner) connects: the refusal above was the mode.
        const own = spawnSync(node, ['-e', probe], { encoding: 'utf8' });
        assert.equal(own.stdout.trim(), 'CONNECTED');
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'a stale socket is replaced; a live one is refused with one clear line; a non-socket is left alone',
    withLeakCheck(async () => {
      const dir = tempDir('stale');
      const sock = join(dir, 'd.sock');
      // Leave a stale socket file: a listener killed without cleaning up.
      const holder = spawn(
        process.execPath,
        [
          '-e',
          `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise((r) => holder.stdout.once('data', r));
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      assert.ok(statSync(sock).isSocket());

      const d = await startDaemon({ dir });
      try {
        const c = await d.client();
        await c.ping();
        const second = await runCli(['daemon', '--socket', d.socket]);
        assert.equal(second.code, 1);
        assert.equal(
          second.stderr,
          `sluice: a daemon is already listening on ${d.socket}; stop it first, or choose another path with --socket\n`,
        );
        await c.ping(); // the first one still serves

        const file = join(dir, 'plain');
        writeFileSync(file, 'keep me');
        const notSock = await runCli(['daemon', '--socket', file]);
        assert.equal(notSock.code, 1);
        assert.equal(
          notSock.stderr,
          `sluice: ${file} exists and is not a socket; not touching it; use a socket of your own: --socket PATH, or set SLUICE_SOCKET (or XDG_RUNTIME_DIR, whose sluice/ folder is used)\n`,
        );
        assert.equal(readFileSync(file, 'utf8'), 'keep me');

        const unsafe = join(dir, 'sluice');
        mkdirSync(unsafe, { mode: 0o755 });
        chmodSync(unsafe, 0o755);
        const r = await runCli(['daemon', '--socket', join(unsafe, 'd.sock')]);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /^sluice: \S+\/sluice has mode 755; it must be 700 \(chmod 700 \S+\); use a socket of your own: [^\n]+\n$/,
        );
      } finally {
        await d.stop();
      }
    }),
  );

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(
      `${signal} stops every session, grandchildren included, and leaves no orphan`,
      withLeakCheck(async () => {
        const d = await startDaemon({ args: ['--shutdown-grace', '500ms'] });
        const c = await d.client();
        const spawned = await Promise.all([
          c.spawn({ argv: ['sleep', '100'] }),
          // Grandchildren in the session's process group.
          c.spawn({ argv: ['sh', '-c', 'sleep 101 & sleep 102 & wait'] }),
          // A grandchild that left the group (its own session): only the tree finds it.
          c.spawn({ argv: ['sh', '-c', 'setsid sleep 103 & wait'] }),
          // Ignores SIGTERM: needs the SIGKILL after the grace.
          c.spawn({
            argv: ['sh', '-c', "trap '' TERM; sleep 104 & wait; while :; do sleep 1; done"],
          }),
          c.spawn({ argv: ['sh', '-c', 'sleep 105'], pty: { rows: 10, cols: 40 } }),
        ]);
        const pids = new Set<number>();
        await waitFor(
          () => {
            pids.clear();
            for (const s of spawned) {
              pids.add(s.pid);
              for (const p of descendants(s.pid)) pids.add(p.pid);
            }
            // sleep 100 alone; 2 + 1 + 1 grandchildren; the PTY's sh may exec sleep itself.
            return pids.size >= 5 + 4;
          },
          { message: 'every grandchild to start' },
        );
        const viewer = await c.attach(spawned[0]!.id, { readOnly: true });
        for (const p of pids) assert.ok(alive(p), `${p} runs before the shutdown`);
        d.child.kill(signal);
        const end = await viewer.done;
        assert.ok(['exited', 'shutdown'].includes(end.reason), end.reason);
        const exit = await d.exited;
        assert.deepEqual(exit, { code: 0, signal: null }, d.log());
        const left = [...pids].filter(alive);
        assert.deepEqual(left, [], `orphans left: ${left.join(', ')}`);
        assert.throws(() => statSync(d.socket), /ENOENT/, 'the socket file is removed');
        assert.match(d.log(), new RegExp(`shutting down \\(${signal}\\)`));
        await d.stop();
      }),
    );
  }

  test(
    'a daemon whose stderr reader went away keeps serving and stops on SIGTERM',
    withLeakCheck(async () => {
      const d = await startDaemon();
      let sessionPid = 0;
      try {
        const steps = (async () => {
          const c = await d.client();
          d.child.stderr!.destroy(); // the next log line hits a dead pipe (EPIPE)
          sessionPid = (await c.spawn({ argv: ['sleep', '100'] })).pid;
          await c.spawn({ argv: ['true'] }); // more log lines
          await c.ping();
          d.child.kill('SIGTERM');
          return d.exited;
        })();
        const outcome = await Promise.race([
          steps,
          new Promise((r) => setTimeout(() => r('no answer within 15 s'), 15_000).unref()),
        ]);
        assert.deepEqual(outcome, { code: 0, signal: null });
        assert.equal(alive(sessionPid), false, 'its session was stopped');
      } finally {
        await d.stop('SIGKILL');
      }
    }),
  );

  test(
    '--log-dir spools every byte beyond the ring, rotates at the cap and keeps disks bounded',
    withLeakCheck(async () => {
      const dir = tempDir('spool');
      const logs = join(dir, 'logs');
      const d = await startDaemon({
        dir,
        args: ['--log-dir', logs, '--log-max-bytes', '1M', '--log-keep', '2'],
      });
      try {
        const c = await d.client();
        // ~2.9 MB of numbered lines: nearly three times the 1 MiB ring.
        const a = await c.spawn({ argv: ['seq', '1', '400000'] });
        const b = await c.spawn({ argv: ['sh', '-c', 'head -c 6000000 /dev/zero; echo err >&2'] });
        for (const s of [a, b]) {
          await waitFor(async () => (await c.get(s.id)).state === 'exited', { timeoutMs: 20_000 });
        }
        const expected = spawnSync('seq', ['1', '400000'], { maxBuffer: 1 << 24 }).stdout as Buffer;
        const ring = await c.logs(a.id);
        assert.ok(ring.missedBytes > 0, 'the ring dropped the start');
        const files = readdirSync(logs).sort();
        const aFiles = files.filter((f) => f.startsWith(`${a.id}.stdout.log`));
        assert.deepEqual(aFiles, [
          `${a.id}.stdout.log`,
          `${a.id}.stdout.log.1`,
          `${a.id}.stdout.log.2`,
        ]);
        const spooled = Buffer.concat(
          [`${a.id}.stdout.log.2`, `${a.id}.stdout.log.1`, `${a.id}.stdout.log`].map((f) =>
            readFileSync(join(logs, f)),
          ),
        );
        assert.ok(spooled.equals(expected), 'the spool holds every byte, in order');
        assert.equal(statSync(join(logs, `${a.id}.stdout.log`)).mode & 0o777, 0o600);
        // b wrote 6 MB: only the cap times (keep + 1) is kept, every file at most the cap.
        const bFiles = files.filter((f) => f.startsWith(`${b.id}.stdout.log`));
        assert.equal(bFiles.length, 3, bFiles.join(' '));
        for (const f of bFiles) assert.ok(statSync(join(logs, f)).size <= 1024 * 1024);
        assert.equal(readFileSync(join(logs, `${b.id}.stderr.log`), 'utf8'), 'err\n');
      } finally {
        await d.stop();
      }
      rmSync(dir, { recursive: true, force: true });
    }),
  );
});
