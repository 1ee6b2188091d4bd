/**
 * PTY sessions against real programs in a real terminal: tmux runs `sluice attach` in a pane and
 * tells what that pane shows and which modes it is in. Each test has its own tmux server on a
 * private socket (`tmux -L`, in a temp folder of its own), killed in `finally` even when the
 * test fails, and its own daemon.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_ARGS, type DaemonProcess, ROOT, startDaemon } from './daemon-harness.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skipNoTmux = has('tmux') ? false : 'tmux is not installed (.ci/run installs it)';

/** Quotes one word for sh. */
function q(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

let serial = 0;

/** A private tmux server (`tmux -L`) with helpers; `kill()` in finally. */
function tmuxServer() {
  const name = `sluice-test-${process.pid}-${++serial}`;
  // The server's socket goes in a folder of the test's own, removed with the server.
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tmux-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', TMUX_TMPDIR: dir };
  delete env.TMUX;
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', ['-L', name, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env,
    });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    tmux,
    /** The pane's visible text, trailing blanks trimmed per line. */
    screen: (target: string) =>
      tmux('capture-pane', '-p', '-t', target)
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n')
        .trimEnd(),
    /** The pane's history and screen. */
    history: (target: string) => tmux('capture-pane', '-p', '-J', '-t', target, '-S', '-'),
    format: (target: string, f: string) => tmux('display', '-p', '-t', target, f).trim(),
    kill: () => {
      spawnSync('tmux', ['-L', name, 'kill-server'], { stdio: 'ignore', env });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shell words of `sluice COMMAND --socket … ARGS…` (the socket before any `--`). */
function sluice(d: DaemonProcess, command: string, ...args: string[]): string {
  return [process.execPath, ...CLI_ARGS, command, '--socket', d.socket, ...args].map(q).join(' ');
}

describe('PTY sessions in a real terminal (tmux)', { skip: skipNoTmux }, () => {
  test(
    'a query sent once is answered once across three attaches and a logs',
    withLeakCheck(async () => {
      const d = await startDaemon();
      const t = tmuxServer();
      try {
        const c = await d.client();
        const inputLog = join(d.dir, 'input.log');
        // Raw mode; wait for "g"; send one cursor-position query; log every input byte.
        const program = [
          'import os, sys, tty',
          'tty.setraw(0)',
          `log = open(${JSON.stringify(inputLog)}, "ab", buffering=0)`,
          'os.write(1, b"READY\\r\\n")',
          'while True:',
          '    b = os.read(0, 1024)',
          '    if not b: break',
          '    log.write(b)',
          '    if b"g" in b: os.write(1, b"\\x1b[6nQUERY-SENT\\r\\n")',
        ].join('\n');
        writeFileSync(inputLog, '');
        const s = await c.spawn({ argv: ['python3', '-c', program], pty: { rows: 24, cols: 80 } });
        const attach = sluice(d, 'attach', s.id);
        const script = [
          `cd ${q(ROOT)}`,
          `${attach}; echo "A1=$?"`,
          `${attach}; echo "A2=$?"`,
          `${sluice(d, 'attach', '--read-only', s.id)}; echo "A3=$?"`,
          `${sluice(d, 'logs', s.id)}; echo "LOGS=$?"`,
          `${attach}; echo "A4=$?"`,
          'sleep 600',
        ].join('; ');
        t.tmux('new-session', '-d', '-x', '90', '-y', '30', '-s', 'q', script);
        await waitFor(() => t.screen('q').includes('READY'), {
          timeoutMs: 30_000,
          message: 'attach 1',
        });
        t.tmux('send-keys', '-t', 'q', 'g');
        await waitFor(() => readFileSync(inputLog, 'latin1').includes('R'), {
          timeoutMs: 15_000,
          message: 'the terminal to answer the query',
        });
        const banners = (n: number, what: string) =>
          waitFor(() => t.history('q').split('[attached to').length > n, {
            timeoutMs: 30_000,
            message: what,
          });
        t.tmux('send-keys', '-t', 'q', 'C-\\');
        await waitFor(() => t.history('q').includes('A1=0'), {
          timeoutMs: 15_000,
          message: 'detach 1',
        });
        await banners(2, 'attach 2');
        t.tmux('send-keys', '-t', 'q', 'C-\\');
        await waitFor(() => t.history('q').includes('A2=0'), {
          timeoutMs: 15_000,
          message: 'detach 2',
        });
        await banners(3, 'the read-only attach');
        t.tmux('send-keys', '-t', 'q', 'C-\\');
        await waitFor(() => t.history('q').includes('LOGS=0'), {
          timeoutMs: 20_000,
          message: 'logs',
        });
        await banners(4, 'attach 4');
        // Keys typed now arrive after any answer a replayed query would have drawn.
        t.tmux('send-keys', '-t', 'q', 'z');
        await waitFor(() => readFileSync(inputLog, 'latin1').includes('z'), {
          timeoutMs: 15_000,
          message: 'the marker key',
        });
        const input = readFileSync(inputLog, 'latin1');
        assert.match(
          input.replaceAll('\x1b', 'ESC'),
          /^gESC\[\d+;\d+Rz$/,
          `one answer only, got ${JSON.stringify(input)}`,
        );
        t.tmux('send-keys', '-t', 'q', 'C-\\');
        await waitFor(() => t.history('q').includes('A4=0'), {
          timeoutMs: 15_000,
          message: 'detach 4',
        });
      } finally {
        t.kill();
        await d.stop();
      }
    }),
  );

  test(
    'detaching from htop gives the terminal back: normal screen, visible cursor, no mouse or keypad',
    { skip: has('htop') ? false : 'htop is not installed (.ci/run installs it)' },
    withLeakCheck(async () => {
      const d = await startDaemon();
      const t = tmuxServer();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ['htop'], pty: { rows: 24, cols: 80 } });
        const script = `cd ${q(ROOT)}; printf 'before\\n'; ${sluice(d, 'attach', s.id)}; echo "EXIT=$?"; sleep 600`;
        t.tmux('new-session', '-d', '-x', '100', '-y', '30', '-s', 'h', script);
        await waitFor(
          () =>
            t.format('h', '#{alternate_on}') === '1' && /Load average|Tasks/.test(t.screen('h')),
          {
            timeoutMs: 30_000,
            message: 'htop on screen',
          },
        );
        assert.equal(t.format('h', '#{cursor_flag}'), '0', 'htop hides the cursor');
        t.tmux('send-keys', '-t', 'h', 'C-\\');
        await waitFor(() => t.history('h').includes('EXIT=0'), {
          timeoutMs: 15_000,
          message: 'the detach',
        });
        assert.equal(t.format('h', '#{alternate_on}'), '0');
        assert.equal(t.format('h', '#{cursor_flag}'), '1');
        assert.equal(t.format('h', '#{mouse_any_flag}'), '0');
        assert.equal(t.format('h', '#{keypad_flag}'), '0');
        assert.equal(t.format('h', '#{keypad_cursor_flag}'), '0');
        assert.equal(t.format('h', '#{scroll_region_upper} #{scroll_region_lower}'), '0 29');
        // The detach line starts on a line of its own.
        assert.match(t.screen('h'), /(^|\n)\[detached from [^\]]+\]\n/);
        assert.equal((await c.get(s.id)).state, 'running');
      } finally {
        t.kill();
        await d.stop();
      }
    }),
  );

  test(
    'vim re-attached larger and smaller shows what tmux shows for the same program',
    { skip: has('vim') ? false : 'vim is not installed' },
    withLeakCheck(async () => {
      const d = await startDaemon();
      const t = tmuxServer();
      try {
        const c = await d.client();
        const file = join(d.dir, 'text.txt');
        writeFileSync(
          file,
          Array.from({ length: 200 }, (_, i) => `line ${i} ${'lorem ipsum '.repeat(i % 9)}`).join(
            '\n',
          ),
        );
        const vim = [
          'vim',
          '-u',
          'NONE',
          '-i',
          'NONE',
          '-N',
          '-n',
          '+set nowrap ruler laststatus=2',
          '+50',
          file,
        ];
        // Reference: vim straight in a tmux window.
        t.tmux(
          'new-session',
          '-d',
          '-x',
          '80',
          '-y',
          '24',
          '-s',
          'ref',
          '-c',
          d.dir,
          vim.map(q).join(' '),
        );
        const s = await c.spawn({ argv: vim, cwd: d.dir, pty: { rows: 24, cols: 80 } });
        t.tmux(
          'new-session',
          '-d',
          '-x',
          '80',
          '-y',
          '24',
          '-s',
          'sl',
          `cd ${q(ROOT)}; while :; do ${sluice(d, 'attach', s.id)}; echo "EXIT=$?"; read _; done`,
        );
        const same = async (size: string) => {
          let last = '';
          await waitFor(
            () => {
              const ref = t.screen('ref');
              last = t.screen('sl');
              return ref.includes('line 50') && ref === last;
            },
            { timeoutMs: 30_000, message: `the same screen at ${size}` },
          ).catch((e: Error) => {
            throw new Error(`${e.message}\n--- tmux:\n${t.screen('ref')}\n--- sluice:\n${last}`);
          });
        };
        await same('80x24');
        for (const [x, y] of [
          [120, 40],
          [60, 15],
        ] as const) {
          t.tmux('send-keys', '-t', 'sl', 'C-\\');
          await waitFor(() => t.history('sl').split('EXIT=0').length > 1, { timeoutMs: 15_000 });
          t.tmux('resize-window', '-t', 'ref', '-x', String(x), '-y', String(y));
          t.tmux('resize-window', '-t', 'sl', '-x', String(x), '-y', String(y));
          t.tmux('clear-history', '-t', 'sl');
          t.tmux('send-keys', '-t', 'sl', 'Enter'); // attach again, at the new size
          await same(`${x}x${y}`);
        }
      } finally {
        t.kill();
        await d.stop();
      }
    }),
  );

  test(
    'a full-screen program still shows correctly after 3 MiB of output',
    withLeakCheck(async () => {
      const d = await startDaemon();
      const t = tmuxServer();
      try {
        const c = await d.client();
        const program = [
          'import os, sys',
          'os.write(1, b"\\x1b[?1049h\\x1b[?25l\\x1b[2J")',
          'frame = b"\\x1b[H" + b"".join(b"row %02d " % i + b"x" * 60 + b"\\r\\n" for i in range(20))',
          'n = 0',
          'while n < 3 * 1024 * 1024:',
          '    os.write(1, frame); n += len(frame)',
          'os.write(1, b"\\x1b[H\\x1b[2J\\x1b[5;10HFINAL FRAME\\x1b[10;1Hbottom line")',
          'os.write(1, b"\\x1b[20;1HDONE")',
          'os.read(0, 1)',
        ].join('\n');
        const s = await c.spawn({ argv: ['python3', '-c', program], pty: { rows: 24, cols: 80 } });
        await waitFor(
          async () => ((await c.get(s.id)).attachments.stdout?.bytes ?? 0) > 3 * 1024 * 1024,
          {
            timeoutMs: 60_000,
            message: '3 MiB of output',
          },
        );
        t.tmux(
          'new-session',
          '-d',
          '-x',
          '80',
          '-y',
          '24',
          '-s',
          'b',
          `cd ${q(ROOT)}; ${sluice(d, 'attach', s.id)}; echo "EXIT=$?"; sleep 600`,
        );
        await waitFor(() => t.screen('b').includes('DONE'), {
          timeoutMs: 30_000,
          message: 'the last frame',
        });
        const screen = t.screen('b').split('\n');
        assert.equal(screen[4], `${' '.repeat(9)}FINAL FRAME`);
        assert.equal(screen[9], 'bottom line');
        assert.equal(screen.filter((l) => l.includes('row ')).length, 0, 'no earlier frame shows');
        assert.equal(t.format('b', '#{alternate_on}'), '1', 'still on the alternate screen');
        assert.equal(t.format('b', '#{cursor_flag}'), '0', 'the cursor still hidden');
        t.tmux('send-keys', '-t', 'b', 'C-\\');
        await waitFor(() => t.history('b').includes('EXIT=0'), { timeoutMs: 15_000 });
      } finally {
        t.kill();
        await d.stop();
      }
    }),
  );

  test(
    '$(sluice spawn --pty …) takes the size of the terminal it runs in',
    withLeakCheck(async () => {
      const d = await startDaemon();
      const t = tmuxServer();
      try {
        const c = await d.client();
        const spawn = sluice(d, 'spawn', '--pty', '--', 'sleep', '600');
        // stdout captured and stderr to a file: the terminal is still stdin.
        const script = `cd ${q(ROOT)}; id=$(${spawn} 2>/dev/null); echo "ID=$id"; id2=$(${spawn} 2>/dev/null </dev/null); echo "ID2=$id2"; sleep 600`;
        t.tmux('new-session', '-d', '-x', '111', '-y', '33', '-s', 's', script);
        const ids = await waitFor(
          () => {
            const m = /ID=(\S+)\s+ID2=(\S+)/.exec(t.history('s'));
            return m ? [m[1]!, m[2]!] : undefined;
          },
          { timeoutMs: 30_000, message: 'the spawns' },
        );
        for (const id of ids) {
          assert.deepEqual((await c.get(id)).size, { rows: 33, cols: 111 });
          await c.remove(id, { force: true });
        }
      } finally {
        t.kill();
        await d.stop();
      }
    }),
  );
});
