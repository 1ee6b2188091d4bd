/**
 * `sluice run`, run as a child process the way a user runs it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLeakCheck } from '../helpers/leaks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sluice(
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
    child.stdin.end(input);
  });
}

describe('sluice run', () => {
  test(
    "'yes | head -1' prints y and exits 0",
    withLeakCheck(async () => {
      const r = await sluice(['yes | head -1']);
      assert.equal(r.stdout, 'y\n');
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
    }),
  );

  test(
    'exit status like bash: the last stage, or the rightmost failure with --pipefail',
    withLeakCheck(async () => {
      const [plain, pipefail, signal] = await Promise.all([
        sluice(['false | true']),
        sluice(['--pipefail', 'false | sh -c "exit 3" | true']),
        sluice(["sh -c 'kill -9 $$'"]),
      ]);
      assert.equal(plain.code, 0);
      assert.equal(pipefail.code, 3);
      assert.equal(signal.code, 137);
    }),
  );

  test(
    'a missing command: 127 and one clear line; a syntax error: 2 and one clear line',
    withLeakCheck(async () => {
      const [missing, syntax] = await Promise.all([
        sluice(['nonexistent-sluice-cmd | cat']),
        sluice(['echo a; echo b']),
      ]);
      assert.equal(missing.code, 127);
      assert.equal(
        missing.stderr,
        'sluice: nonexistent-sluice-cmd: command not found: nonexistent-sluice-cmd\n',
      );
      assert.equal(syntax.code, 2);
      assert.match(
        syntax.stderr,
        /^sluice: syntax error: ';' is not supported \(one pipeline only\) \(at offset 6\)\n$/,
      );
    }),
  );

  test(
    'stdin reaches the first command; --stats --json counts bytes between stages',
    withLeakCheck(async () => {
      const [r, table] = await Promise.all([
        sluice(['--stats', '--json', 'tr a-z A-Z | wc -c'], 'hello\n'),
        sluice(['--stats', 'seq 1000 | wc -l']),
      ]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), '6');
      const rows = JSON.parse(r.stderr) as {
        stage: string;
        bytesIn: number | null;
        bytesOut: number | null;
        status: number;
        wallMs: number;
      }[];
      assert.deepEqual(
        rows.map((x) => [x.stage, x.bytesIn, x.bytesOut, x.status]),
        [
          ['tr a-z A-Z', null, 6, 0],
          ['wc -c', 6, 2, 0],
        ],
      );
      for (const row of rows) assert.ok(row.wallMs >= 0);
      assert.equal(table.stdout, '1000\n');
      assert.match(table.stderr, /^stage +in +out +wall +status +peak RSS\n/);
      assert.match(table.stderr, /\nseq 1000 +- +3\.8 KiB +[\d.]+ ms +0 /);
    }),
  );
});

describe('sluice run on a terminal', () => {
  test(
    'a TTY stdout goes straight to the last command',
    { timeout: 60000 },
    withLeakCheck(async () => {
      const pty = await import('node-pty');
      const term = pty.spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'run',
          'echo x | sh -c "cat >/dev/null; test -t 1 && echo stdout-is-a-tty"',
        ],
        { cwd: root, cols: 80, rows: 24, env: process.env as Record<string, string> },
      );
      let out = '';
      term.onData((d) => {
        out += d;
      });
      const code = await new Promise<number>((r) => term.onExit((e) => r(e.exitCode)));
      assert.equal(code, 0);
      assert.match(out, /stdout-is-a-tty/);
    }),
  );
});
