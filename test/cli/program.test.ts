import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { buildProgram } from '../../src/cli/program.js';
import { paint, useColor } from '../../src/cli/style.js';
import { withLeakCheck } from '../helpers/leaks.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: the program', () => {
  test(
    '--version prints the package version; --help lists commands and exit codes',
    withLeakCheck(() => {
      const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      const v = sluice('--version');
      assert.equal(v.code, 0);
      assert.equal(v.stdout.trim(), pkg.version);
      const h = sluice('--help');
      assert.equal(h.code, 0);
      assert.match(h.stdout, /completion <shell>/);
      assert.match(h.stdout, /Exit status: 0 on success/);
    }),
  );

  test(
    'a usage error exits 2 with one clear line',
    withLeakCheck(() => {
      for (const args of [['--bogus'], ['nosuch'], ['completion', 'fish']]) {
        const r = sluice(...args);
        assert.equal(r.code, 2, args.join(' '));
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^sluice: [^\n]+ \(see --help\)\n$/);
      }
    }),
  );

  test(
    'bash completion is valid bash and offers every subcommand and its flags',
    withLeakCheck(() => {
      const r = sluice('completion', 'bash');
      assert.equal(r.code, 0);
      const check = spawnSync('bash', ['-n'], { input: r.stdout });
      assert.equal(check.status, 0, String(check.stderr));
      for (const c of buildProgram().commands) {
        assert.ok(r.stdout.includes(` ${c.name()}`), c.name());
        for (const o of c.options) if (o.long) assert.ok(r.stdout.includes(o.long), o.long);
      }
      // Completing `sluice comp` in a real bash gives `completion`.
      const probe = spawnSync(
        'bash',
        [
          '-c',
          `${r.stdout}\nCOMP_WORDS=(sluice comp); COMP_CWORD=1; _sluice; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(probe.stdout.trim(), 'completion');
    }),
  );

  test(
    'zsh completion names every subcommand',
    withLeakCheck(() => {
      const r = sluice('completion', 'zsh');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^#compdef sluice/);
      for (const c of buildProgram().commands) assert.match(r.stdout, new RegExp(`'${c.name()}:`));
    }),
  );

  test('colours: only on a TTY, never with NO_COLOR, forced by FORCE_COLOR', (t) => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    const env = { ...process.env };
    t.after(() => {
      process.env = env;
    });
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    assert.equal(useColor(tty), true);
    assert.equal(useColor(pipe), false);
    process.env.NO_COLOR = '1';
    assert.equal(useColor(tty), false);
    delete process.env.NO_COLOR;
    process.env.FORCE_COLOR = '1';
    assert.equal(useColor(pipe), true);
    assert.equal(paint('x', 'red', true), '\x1b[31mx\x1b[39m');
    assert.equal(paint('x', 'red', false), 'x');
  });
});

describe('cli: help', () => {
  // In process: spawning the CLI once per subcommand costs a second each under tsx.
  test('every subcommand has --help with examples', () => {
    for (const c of buildProgram().commands) {
      if (c.name() === 'help') continue;
      let text = '';
      c.configureOutput({ writeOut: (s) => (text += s) });
      c.outputHelp();
      assert.match(text, new RegExp(`^Usage: sluice ${c.name()}`), c.name());
      assert.match(text, /\nExamples:\n( {2}.*sluice.*\n)+/, `${c.name()} has examples`);
    }
  });
});
