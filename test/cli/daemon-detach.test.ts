import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { alive, runCli, tempDir } from '../sessions/daemon-harness.js';

const LONG = { timeoutMs: 120_000 };

/** The session id of `/proc/PID/stat` (field 6). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** Stops a daemon this test started in the background, whatever state the test left it in. */
async function reap(pid: number | undefined): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  try {
    await waitFor(() => !alive(pid), { timeoutMs: 20_000 });
  } catch {
    process.kill(pid, 'SIGKILL');
  }
}

describe('cli: daemon --detach and shutdown', () => {
  test(
    'detach returns once the daemon answers, logs to a file, and shutdown stops it and its sessions',
    withLeakCheck(async () => {
      const dir = tempDir('detach');
      const socket = join(dir, 'd.sock');
      const s = ['--socket', socket];
      let pid: number | undefined;
      try {
        const started = await runCli(['daemon', '--detach', ...s], LONG);
        assert.equal(started.code, 0, started.stderr);
        assert.equal(started.stderr, '');
        const m =
          /^sluice daemon: running in the background \(pid (\d+)\), socket (\S+), log (\S+); stop it with sluice shutdown\n$/.exec(
            started.stdout,
          );
        assert.ok(m, started.stdout);
        pid = Number(m[1]);
        assert.equal(m[2], socket);
        assert.equal(m[3], join(dir, 'd.log'));
        // The command has returned and the daemon runs on, in a session of its own (no terminal).
        assert.ok(alive(pid));
        assert.equal(sessionOf(pid), pid);

        // It answers at once; what it logs goes to its file, not to the terminal it came from.
        const spawned = await runCli(['spawn', ...s, '--', 'sleep', '60'], LONG);
        assert.equal(spawned.code, 0, spawned.stderr);
        const id = spawned.stdout.trim();
        const ls = await runCli(['ls', ...s, '--json'], LONG);
        const sessions = JSON.parse(ls.stdout) as { id: string; pid: number }[];
        assert.deepEqual(
          sessions.map((x) => x.id),
          [id],
        );
        const sleeper = sessions[0]!.pid;
        const log = readFileSync(join(dir, 'd.log'), 'utf8');
        assert.match(log, new RegExp(`sluice daemon: listening on ${socket} \\(pid ${pid},`));
        assert.match(log, new RegExp(`sluice daemon: spawned pipe session ${id} `));

        // A second daemon on the same socket is refused with the daemon's own line.
        const again = await runCli(['daemon', '--detach', ...s], LONG);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /^sluice: a daemon is already listening on \S+; [^\n]*\n$/);

        // shutdown waits until the daemon has stopped its sessions and exited.
        const stopped = await runCli(['shutdown', ...s], LONG);
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.equal(stopped.stdout, `stopped (pid ${pid})\n`);
        assert.ok(!alive(pid), 'the daemon has exited');
        assert.ok(!alive(sleeper), 'its session has stopped');
        assert.ok(!existsSync(socket), 'its socket is gone');
        assert.match(
          readFileSync(join(dir, 'd.log'), 'utf8'),
          /shutting down \(a client asked\)[\s\S]*stopped\n$/,
        );

        const none = await runCli(['shutdown', ...s], LONG);
        assert.equal(none.code, 1);
        assert.equal(
          none.stderr,
          `sluice: no sluice daemon answers at ${socket}: nothing to stop\n`,
        );
      } finally {
        await reap(pid);
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    '--log-file names the file; a daemon that cannot start fails the detach with its own line',
    withLeakCheck(async () => {
      const dir = tempDir('detach');
      const bad = tempDir('detach-open');
      let pid: number | undefined;
      try {
        // A socket folder others can write to: refused, with what to do in shell terms.
        chmodSync(bad, 0o777);
        const [refused, client] = await Promise.all([
          runCli(['daemon', '--detach', '--socket', join(bad, 'd.sock')], LONG),
          runCli(['ls', '--socket', join(bad, 'd.sock')], LONG),
        ]);
        assert.equal(refused.code, 1);
        assert.equal(refused.stdout, '');
        assert.match(
          refused.stderr,
          /^sluice: refusing the socket folder: \S+ has mode 0777: [^\n]*; use a socket of your own: --socket PATH, or set SLUICE_SOCKET \(or XDG_RUNTIME_DIR[^\n]*\n$/,
        );
        assert.equal(client.code, 1);
        assert.match(
          client.stderr,
          /^sluice: refusing the daemon socket [^\n]*; use a socket of your own: --socket PATH, or set SLUICE_SOCKET/,
        );
        // A ~ no shell expanded: said so, with $HOME.
        const tilde = await runCli(['ls', '--socket', '~/x.sock'], LONG);
        assert.equal(tilde.code, 1);
        assert.equal(
          tilde.stderr,
          'sluice: --socket ~/x.sock starts with ~, which is not expanded there: write $HOME/x.sock (or an absolute path)\n',
        );

        const logFile = join(dir, 'daemon-log.txt');
        const socket = join(dir, 'd.sock');
        const started = await runCli(
          ['daemon', '--detach', '--socket', socket, '--log-file', logFile, '--quiet'],
          LONG,
        );
        assert.equal(started.code, 0, started.stderr);
        pid = Number(/\(pid (\d+)\)/.exec(started.stdout)?.[1]);
        assert.match(started.stdout, new RegExp(`, log ${logFile};`));
        assert.ok(existsSync(logFile));
        const stopped = await runCli(['shutdown', '--socket', socket, '--json'], LONG);
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.deepEqual(JSON.parse(stopped.stdout), { pid, state: 'stopped' });
        // --quiet: nothing but errors, and there were none.
        assert.equal(readFileSync(logFile, 'utf8'), '');
      } finally {
        await reap(pid);
        rmSync(dir, { recursive: true, force: true });
        rmSync(bad, { recursive: true, force: true });
      }
    }),
  );
});
