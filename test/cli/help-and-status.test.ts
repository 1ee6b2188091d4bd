import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { DEFAULT_DETACH_KEY, detachHint, parseDetachKey } from '../../src/cli/sessions/attach.js';
import { forShell } from '../../src/cli/sessions/client-util.js';
import { inFlagWords } from '../../src/cli/sessions/daemon.js';
import { backgroundArgs } from '../../src/cli/sessions/daemon-detach.js';
import { defaultLogFile } from '../../src/cli/sessions/daemon-log.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { CLI_ARGS, ROOT, runCli } from '../sessions/daemon-harness.js';

function helpOf(c: Command): string {
  let text = '';
  c.configureOutput({ writeOut: (s) => (text += s) });
  c.outputHelp();
  return text;
}

describe('cli: --help shows only real, useful defaults', () => {
  test('no option shows an object, an array or a bare code as its default, nor two defaults', () => {
    const program = buildProgram();
    const all = program.commands.map((c) => ({ c, text: helpOf(c) }));
    for (const { c, text } of all) {
      assert.doesNotMatch(text, /\(default: (\{|\[)/, `${c.name()}: an object or array default`);
      // Help lines wrap, so flatten them before looking for "(default …) (default: …)".
      const flat = text.replace(/\s+/g, ' ');
      assert.doesNotMatch(flat, /\(default[^)]*\) \(default/, `${c.name()}: two defaults`);
      for (const o of c.options) {
        if (o.defaultValue === undefined || o.negate) continue;
        assert.ok(
          ['string', 'number', 'boolean'].includes(typeof o.defaultValue),
          `${c.name()} ${o.long}: default ${JSON.stringify(o.defaultValue)}`,
        );
        assert.doesNotMatch(o.description, /\(default/, `${c.name()} ${o.long}: said twice`);
      }
    }
    const attach = all.find((x) => x.c.name() === 'attach')!.text.replace(/\s+/g, ' ');
    assert.doesNotMatch(attach, /\(default: 28\)/);
    assert.match(attach, /--detach-key <key> .*\(default ctrl-\\;/);
    const spawn = all.find((x) => x.c.name() === 'spawn')!.text;
    assert.doesNotMatch(spawn, /\(default: \{\}\)/);
    // stop's help and its example agree with the daemon's grace (5 s).
    const stop = all.find((x) => x.c.name() === 'stop')!.text;
    assert.match(stop, /\(default 5s\)/);
    assert.match(stop, /5 s grace/);
    assert.doesNotMatch(stop, /2 s grace/);
  });

  test('the daemon shows how to run it in the background and how to stop it', () => {
    const program = buildProgram();
    const daemon = helpOf(program.commands.find((c) => c.name() === 'daemon')!);
    assert.match(daemon, /--detach /);
    assert.match(daemon, /--log-file <path>/);
    assert.match(daemon, /\n {2}sluice daemon --detach /);
    assert.match(daemon, /\n {2}sluice shutdown /);
    assert.doesNotMatch(daemon, /notify-ready/, 'the internal flag is hidden');
    const shutdown = helpOf(program.commands.find((c) => c.name() === 'shutdown')!);
    assert.match(shutdown, /^Usage: sluice shutdown/);
    assert.match(shutdown, /--no-wait/);
  });
});

describe('cli: the detach key is one key, Ctrl-\\', () => {
  test('the banner names Ctrl-\\ in raw and in line mode; another key or none when chosen', () => {
    assert.equal(DEFAULT_DETACH_KEY, 0x1c);
    assert.equal(parseDetachKey('ctrl-\\'), DEFAULT_DETACH_KEY);
    // A PTY session in raw mode, writer or viewer.
    assert.equal(detachHint(true, true, DEFAULT_DETACH_KEY), 'detach with Ctrl-\\');
    assert.equal(detachHint(true, false, DEFAULT_DETACH_KEY), 'detach with Ctrl-\\');
    // A pipe session (line mode): Ctrl-\ is SIGQUIT, which detaches.
    assert.equal(detachHint(false, true, DEFAULT_DETACH_KEY), 'detach with Ctrl-\\');
    assert.equal(detachHint(true, true, parseDetachKey('ctrl-a')), 'detach with Ctrl-A');
    assert.match(detachHint(true, true, null), /^no detach key/);
    assert.equal(detachHint(true, false, null), 'detach with Ctrl-C');
    assert.throws(() => parseDetachKey('alt-x'), /is not a key like ctrl-\\/);
  });
});

describe('cli: messages speak to a shell user', () => {
  test("the daemon's option errors name the flag and the system error in words", () => {
    assert.equal(
      inFlagWords(
        'logDir',
        "logDir: cannot create /sys/y: EPERM: operation not permitted, mkdir '/sys/y'",
      ),
      '--log-dir: cannot create /sys/y: operation not permitted',
    );
    assert.equal(
      inFlagWords('http', "http: '0.0.0.0' is not loopback; allowRemote is off"),
      "--http: '0.0.0.0' is not loopback; add --http-allow-remote to serve other machines",
    );
  });

  test("a daemon's answer names the flag and the system error in words", () => {
    assert.equal(
      forShell('cannot use cwd /nope: ENOENT'),
      'cannot use cwd /nope: no such file or directory',
    );
    assert.equal(forShell('cwd: holds a NUL byte'), '--cwd: holds a NUL byte');
    assert.equal(
      forShell('env: key "=x" is not a valid name'),
      '--env: key "=x" is not a valid name',
    );
    assert.equal(
      forShell('argv: is empty: nothing to run'),
      'the program name is empty: nothing to run',
    );
    // Words that only look like codes are left alone.
    assert.equal(forShell('session k3v9 got EOF'), 'session k3v9 got EOF');
  });

  test('daemon --detach runs the same command line in the background, with its log file', () => {
    assert.equal(defaultLogFile('/tmp/sluice-0/daemon.sock'), '/tmp/sluice-0/daemon.log');
    assert.equal(defaultLogFile('/run/x'), '/run/x.log');
    const args = backgroundArgs(
      ['node', '/bin/sluice', 'daemon', '--detach', '--log-file', 'old.log', '--http', '0'],
      '/tmp/d.log',
    );
    assert.deepEqual(args.slice(-7), [
      '/bin/sluice',
      'daemon',
      '--http',
      '0',
      '--log-file',
      '/tmp/d.log',
      '--notify-ready',
    ]);
  });
});

describe('cli: exit statuses are the ones --help states', () => {
  test(
    'no arguments: the help on stderr and 2; usage errors 2; failures 1; run: its script status',
    withLeakCheck(async () => {
      const footer = (() => {
        let text = '';
        const p = buildProgram();
        p.configureOutput({ writeOut: (s) => (text += s) });
        p.outputHelp();
        return text.replace(/\s+/g, ' ');
      })();
      // What the footer promises, checked one by one below.
      assert.match(footer, /Exit status: 0 on success; 1 when the command failed/);
      assert.match(footer, /2 on a usage error/);
      assert.match(footer, /127 command not found; 128\+N for a signal; 2 when the language/);

      const cases: { args: string[]; code: number; stderr?: RegExp; stdout?: RegExp }[] = [
        { args: [], code: 2, stderr: /^Usage: sluice \[options\] \[command\]/ },
        { args: ['help'], code: 0, stdout: /^Usage: sluice/ },
        { args: ['help', 'nosuch'], code: 2, stderr: /^Usage: sluice/ },
        { args: ['--bogus'], code: 2, stderr: /^sluice: unknown option '--bogus'/ },
        { args: ['spawn', '--rows', '3', '--', 'true'], code: 2, stderr: /need --pty/ },
        { args: ['send', 'abcd'], code: 2, stderr: /^sluice: nothing to send/ },
        { args: ['logs', '--force', 'abcd'], code: 2, stderr: /--force goes with --raw/ },
        {
          args: ['daemon', '--detach', '--until-stdin-closes'],
          code: 2,
          stderr: /do not go together/,
        },
        // `run --json` alone used to be ignored silently.
        {
          args: ['run', '--json', 'echo hi'],
          code: 2,
          stderr: /^sluice: run: --json goes with --stats or --check/,
        },
        {
          args: ['ls', '--socket', '/nonexistent-sluice-dir/d.sock'],
          code: 1,
          stderr: /^sluice: no sluice daemon answers/,
        },
        { args: ['run', 'yes | head -1'], code: 0, stdout: /^y\n$/ },
        { args: ['run', 'false | true'], code: 1 },
        { args: ['run', 'no-such-program-h10'], code: 127 },
        { args: ['run', "sh -c 'kill -TERM $$'"], code: 143 },
        { args: ['run', 'echo $((1 +'], code: 2 },
      ];
      const results = await Promise.all(cases.map((c) => runCli(c.args, { timeoutMs: 120_000 })));
      for (const [i, c] of cases.entries()) {
        const r = results[i]!;
        const what = `sluice ${c.args.join(' ')}: ${r.stderr}`;
        assert.equal(r.code, c.code, what);
        if (c.stderr) assert.match(r.stderr, c.stderr, what);
        if (c.stdout) assert.match(r.stdout, c.stdout, what);
        // Every failure of sluice itself (not a help shown, not a script's own status) is one
        // line on stderr.
        const ownFailure = c.code !== 0 && c.args.length > 0 && c.args[0] !== 'help';
        if (ownFailure && (c.args[0] !== 'run' || c.args[1] === '--json')) {
          assert.equal(r.stderr.trimEnd().split('\n').length, 1, what);
        }
      }
    }),
  );

  test(
    'spawn ls -la without -- says to put -- before the command, with the line to type',
    withLeakCheck(async () => {
      const [plain, withOptions, typo] = await Promise.all([
        runCli(['spawn', 'ls', '-la']),
        runCli(['spawn', '--cwd', '/tmp', '--env', 'A=b c', 'ls', '-la', "it's"]),
        runCli(['spawn', '--bogus']),
      ]);
      assert.equal(plain.code, 2);
      assert.equal(
        plain.stderr,
        "sluice: unknown option '-la'; put -- before the program and its arguments: sluice spawn -- ls -la (see --help)\n",
      );
      assert.equal(withOptions.code, 2);
      assert.match(
        withOptions.stderr,
        /: sluice spawn --cwd \/tmp --env 'A=b c' -- ls -la 'it'\\''s' \(see --help\)\n$/,
      );
      // No program at all: a mistyped option of spawn's own gets no such hint.
      assert.equal(typo.code, 2);
      assert.equal(typo.stderr, "sluice: unknown option '--bogus' (see --help)\n");
    }),
  );
});

describe('cli: a reader that closes early', () => {
  // (`sluice run` does not write its script's output itself: its status is the script's, as
  // with bash, where `echo` ended by SIGPIPE makes 141.)
  for (const [args, expected] of [
    [['--help'], 0],
    [['--version'], 0],
    [['run', 'echo hi'], 141],
  ] as const) {
    test(
      `sluice ${args.join(' ')} into a closed pipe ends quietly with ${expected}`,
      withLeakCheck(async () => {
        const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        // The read end closes before the command writes: its first write meets EPIPE.
        child.stdout.destroy();
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (t: string) => {
          stderr += t;
        });
        const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
        assert.equal(stderr, '', 'nothing on stderr');
        assert.deepEqual({ code, signal }, { code: expected, signal: null });
      }),
    );
  }
});
