import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { CLI_ARGS, ROOT, runCli, startDaemon } from '../daemon-harness.js';

describe('sluice logs of terminal sessions', () => {
  it(
    'prints a PTY session as text, and its raw ring with --raw into a pipe',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({
          argv: [
            'sh',
            '-c',
            'printf "\\033[31mred\\033[0m \\033[6n plain\\n\\033[?1049h\\033[Hfull"; sleep 600',
          ],
          pty: { rows: 5, cols: 30 },
        });
        await waitFor(async () => (await c.snapshot(s.id)).data.includes('full'), {
          timeoutMs: 15_000,
        });
        const text = await runCli(['logs', s.id, '--socket', d.socket]);
        assert.equal(text.code, 0, text.stderr);
        assert.equal(text.stdout, 'red  plain\nfull\n');
        const raw = await runCli(['logs', s.id, '--raw', '--socket', d.socket]);
        assert.equal(raw.code, 0, raw.stderr);
        assert.ok(raw.stdout.includes('\x1b[6n'), 'the raw ring, byte for byte, into a pipe');
        const bad = await runCli(['logs', s.id, '--force', '--socket', d.socket]);
        assert.equal(bad.code, 2, 'a usage error');
        assert.match(bad.stderr, /--force goes with --raw/);
        await c.remove(s.id, { force: true });
      } finally {
        await d.stop();
      }
    }),
  );

  it(
    'logs --follow into a slow pipe reports the gap on stderr and exits 1',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ['sh', '-c', 'read go; head -c 40000000 /dev/zero'] });
        const child = spawn(
          process.execPath,
          [...CLI_ARGS, 'logs', '--follow', s.id, '--socket', d.socket],
          {
            cwd: ROOT,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (t: string) => {
          stderr += t;
        });
        const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
        // Once the follower is attached, the session writes 40 MB; nothing is read from the
        // follower until the session has written everything, so it falls behind.
        child.stdout.pause();
        await waitFor(async () => (await c.get(s.id)).attachments.stdout?.viewers === 1, {
          timeoutMs: 30_000,
          message: 'the follower to attach',
        });
        await c.writeStdin(s.id, 'go\n');
        await waitFor(async () => (await c.get(s.id)).state === 'exited', { timeoutMs: 60_000 });
        let received = 0;
        child.stdout.on('data', (b: Buffer) => {
          received += b.length;
        });
        child.stdout.resume();
        const code = await exited;
        assert.equal(code, 1, stderr);
        assert.match(stderr, /fell behind: \d+ bytes of session \S+ were skipped/);
        assert.ok(received < 40_000_000, 'the gap is real');
        await c.remove(s.id);
      } finally {
        await d.stop();
      }
    }),
  );

  it(
    'logs --follow --lossless into a slow pipe gets every byte and exits 0',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ['sh', '-c', 'read go; head -c 40000000 /dev/zero'] });
        const child = spawn(
          process.execPath,
          [...CLI_ARGS, 'logs', '--follow', '--lossless', s.id, '--socket', d.socket],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (t: string) => {
          stderr += t;
        });
        const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
        let received = 0;
        child.stdout.on('data', (b: Buffer) => {
          received += b.length;
        });
        child.stdout.pause();
        await waitFor(async () => (await c.get(s.id)).attachments.stdout?.viewers === 1, {
          timeoutMs: 30_000,
          message: 'the follower to attach',
        });
        await c.writeStdin(s.id, 'go\n');
        // The session is held while the follower reads nothing: it cannot finish.
        await waitFor(
          async () => ((await c.get(s.id)).attachments.stdout?.bytes ?? 0) > 4_000_000,
          {
            timeoutMs: 30_000,
          },
        );
        assert.equal((await c.get(s.id)).state, 'running', 'the program waits for the reader');
        child.stdout.resume();
        assert.equal(await exited, 0, stderr);
        assert.equal(received, 40_000_000, 'every byte');
        assert.equal(stderr, '');
        await c.remove(s.id);
      } finally {
        await d.stop();
      }
    }),
  );

  it(
    'spawn --restart on-failure restarts with a marker line; ls shows the restarts and the last exit',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const sock = ['--socket', d.socket];
        const spawned = await runCli([
          'spawn',
          ...sock,
          '--restart',
          'on-failure',
          '--max-restarts',
          '2',
          '--backoff',
          '10ms,1s',
          '--',
          'sh',
          '-c',
          'echo hi; exit 5',
        ]);
        assert.equal(spawned.code, 0, spawned.stderr);
        const id = spawned.stdout.trim();
        await waitFor(async () => (await c.get(id)).state === 'exited', { timeoutMs: 20_000 });
        const ls = await runCli(['ls', ...sock]);
        const [header, row] = ls.stdout.trim().split('\n');
        assert.match(header!, /RESTARTS\s+LAST EXIT/);
        assert.match(
          row!,
          new RegExp(`^${id}\\s+\\d+\\s+exited\\(5\\)\\s+natural\\s+2\\s+exit 5\\s+sh -c`),
        );
        const logs = await runCli(['logs', id, ...sock]);
        assert.equal(
          logs.stdout,
          'hi\n[sluice: exited with code 5; restart 1 in 10 ms]\nhi\n[sluice: exited with code 5; restart 2 in 20 ms]\nhi\n[sluice: exited with code 5; not restarting: 2 restarts in a row without staying up 1000 ms]\n',
        );
        const bad = await runCli(['spawn', ...sock, '--max-restarts', '2', '--', 'true']);
        assert.equal(bad.code, 2, 'a usage error');
        assert.match(bad.stderr, /--max-restarts and --backoff need --restart/);
        const when = await runCli(['spawn', ...sock, '--restart', 'sometimes', '--', 'true']);
        assert.notEqual(when.code, 0);
        assert.match(when.stderr, /not always or on-failure/);
        await c.remove(id);
      } finally {
        await d.stop();
      }
    }),
  );
});
