import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_ARGS, ROOT, startDaemon } from '../sessions/daemon-harness.js';

const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;

/** Quotes one word for sh. */
function q(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

describe('sluice attach in a real terminal', () => {
  test(
    'a PTY session attached through tmux sees the terminal size, follows resizes, detaches and re-attaches',
    { skip: hasTmux ? false : 'tmux is not installed (.ci/run installs it)' },
    withLeakCheck(async () => {
      const d = await startDaemon();
      const tmuxSock = join(d.dir, 'tmux.sock');
      const env = { ...process.env };
      delete env.TMUX;
      const tmux = (...args: string[]) => {
        const r = spawnSync('tmux', ['-S', tmuxSock, '-f', '/dev/null', ...args], {
          encoding: 'utf8',
          env,
        });
        if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      const screen = () => tmux('capture-pane', '-p', '-J', '-t', 't', '-S', '-100');
      try {
        const c = await d.client();
        const s = await c.spawn({
          argv: [
            'sh',
            '-c',
            'stty size; while read l; do [ "$l" = quit ] && exit 3; echo "line:$l"; stty size; done',
          ],
          pty: { rows: 24, cols: 80 },
        });
        const attach = [process.execPath, ...CLI_ARGS, 'attach', s.id, '--socket', d.socket]
          .map(q)
          .join(' ');
        const script = `cd ${q(ROOT)}; ${attach}; echo "ATTACH-EXIT=$?"; ${attach}; echo "ATTACH-EXIT=$?"; sleep 60`;
        tmux('new-session', '-d', '-x', '100', '-y', '30', '-s', 't', script);
        const [rows, cols] = tmux('display', '-p', '-t', 't', '#{pane_height} #{pane_width}')
          .trim()
          .split(' ');

        // The backlog (printed at 24x80), then the attach has resized the PTY to the pane.
        await waitFor(() => screen().includes('detach with Ctrl-\\'), {
          timeoutMs: 20_000,
          message: 'the attach to start',
        });
        await waitFor(async () => (await c.get(s.id)).size?.rows === Number(rows), {
          timeoutMs: 15_000,
        });
        tmux('send-keys', '-t', 't', 'hello', 'Enter');
        await waitFor(() => screen().includes(`line:hello\n${rows} ${cols}\n`), {
          timeoutMs: 15_000,
          message: 'the session to see the pane size',
        });

        // A terminal resize reaches the session.
        tmux('resize-window', '-t', 't', '-x', '120', '-y', '40');
        const [rows2, cols2] = tmux('display', '-p', '-t', 't', '#{pane_height} #{pane_width}')
          .trim()
          .split(' ');
        assert.notEqual(`${rows2} ${cols2}`, `${rows} ${cols}`);
        await waitFor(async () => (await c.get(s.id)).size?.cols === Number(cols2), {
          timeoutMs: 15_000,
        });
        tmux('send-keys', '-t', 't', 'again', 'Enter');
        await waitFor(() => screen().includes(`line:again\n${rows2} ${cols2}\n`), {
          timeoutMs: 15_000,
          message: 'the session to see the new size',
        });

        // The detach key leaves the session running; attach exits 0.
        tmux('send-keys', '-t', 't', 'C-\\');
        await waitFor(() => screen().includes('ATTACH-EXIT=0'), {
          timeoutMs: 15_000,
          message: 'the detach',
        });
        assert.equal((await c.get(s.id)).state, 'running');

        // The second attach replays the history; the session's exit status becomes attach's.
        await waitFor(() => screen().split('detach with Ctrl-\\').length === 3, {
          timeoutMs: 20_000,
          message: 'the re-attach',
        });
        tmux('send-keys', '-t', 't', 'quit', 'Enter');
        await waitFor(() => screen().includes('ATTACH-EXIT=3'), {
          timeoutMs: 15_000,
          message: 'the exit status',
        });
        const after = screen().split('ATTACH-EXIT=0')[1]!;
        assert.match(after, /line:hello/, 're-attach replayed the history');
        assert.equal((await c.get(s.id)).exitInfo?.exitCode, 3);
      } finally {
        spawnSync('tmux', ['-S', tmuxSock, 'kill-server'], { stdio: 'ignore', env });
        await d.stop();
      }
    }),
  );
});
