/**
 * `sluice run`, run as a child process the way a user runs it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLeakCheck } from '../helpers/leaks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sluice(
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return run(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'run', ...args],
    process.env,
    input,
  );
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, {
      cwd: root,
      env,
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
    'exit status: pipefail with SIGPIPE forgiven; 128+N for a signal; --pipefail is accepted',
    withLeakCheck(async () => {
      const [plain, pipefail, signal, sigpipe] = await Promise.all([
        sluice(['false | true']),
        sluice(['--pipefail', 'false | sh -c "exit 3" | true']),
        sluice(["sh -c 'kill -9 $$'"]),
        sluice(['seq 1 100000 | head -2 && echo ok']),
      ]);
      assert.equal(plain.code, 1);
      assert.equal(pipefail.code, 3);
      assert.equal(signal.code, 137);
      assert.equal(sigpipe.code, 0);
      assert.equal(sigpipe.stdout, '1\n2\nok\n');
    }),
  );

  test(
    'a missing command: 127 and one clear line; a refused construct: 2 naming it; no glob match: 1',
    withLeakCheck(async () => {
      const [missing, refused, glob] = await Promise.all([
        sluice(['nonexistent-sluice-cmd | cat; echo "status $?"']),
        sluice(['echo a; if true; then echo b; fi']),
        sluice(['echo *.no-such-ext']),
      ]);
      assert.equal(missing.code, 0);
      assert.equal(missing.stdout, 'status 127\n');
      assert.equal(missing.stderr, 'sluice: nonexistent-sluice-cmd: command not found\n');
      assert.equal(refused.code, 2);
      assert.equal(refused.stdout, '');
      assert.equal(
        refused.stderr,
        "sluice: 'if' is not supported: control flow (if) is not part of the language (line 1, column 9)\n",
      );
      assert.equal(glob.code, 1);
      assert.match(glob.stderr, /^sluice: no match: \*\.no-such-ext/);
    }),
  );

  test(
    '-f runs a file with $1…; a #!/usr/bin/env -S sluice run -f script runs as a program; --check parses only',
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pipetest-run-'));
      try {
        const bin = join(dir, 'bin');
        mkdirSync(bin);
        writeFileSync(
          join(bin, 'sluice'),
          `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(join(root, 'src/cli/main.ts'))} "$@"\n`,
          { mode: 0o755 },
        );
        const script = join(dir, 'script.sh');
        writeFileSync(
          script,
          '#!/usr/bin/env -S sluice run -f\n# a comment\necho "args: $# $1 $2"\ncd "$(dirname "$0")" && ls *.sh\nexit 4\n',
          { mode: 0o755 },
        );
        const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
        const [file, shebang, check, bad, ast] = await Promise.all([
          sluice(['-f', script, 'one', 'two words']),
          run(script, ['x'], env),
          sluice(['--check', 'a | b && c > d']),
          sluice(['--check', 'a |']),
          sluice(['--check', '--json', 'echo hi']),
        ]);
        assert.equal(file.stdout, 'args: 2 one two words\nscript.sh\n');
        assert.equal(file.code, 4);
        assert.equal(shebang.stdout, 'args: 1 x \nscript.sh\n');
        assert.equal(shebang.code, 4);
        assert.deepEqual([check.code, check.stdout, check.stderr], [0, '', '']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /^sluice: unexpected the end of the text \(line 1, column 4\)\n$/);
        assert.equal(JSON.parse(ast.stdout).statements[0].first.commands[0].words.length, 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'a 600-command pipeline runs under ulimit -n 1024, as in bash',
    { timeout: 120_000 },
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pipetest-run-'));
      try {
        const script = join(dir, 'long.sh');
        writeFileSync(script, `echo through${' | cat'.repeat(600)}\n`);
        const cli = `ulimit -n 1024 && exec ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts run -f ${JSON.stringify(script)}`;
        const r = await run('bash', ['-c', cli], process.env);
        assert.deepEqual([r.code, r.stdout], [0, 'through\n'], r.stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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
