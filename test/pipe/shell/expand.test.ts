/**
 * Expansion: brace expansion and pathname expansion give bash's words (compared with bash itself
 * on one seeded tree), and a glob that matches nothing is an error naming the pattern.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ShellExpansionError, sh } from '../../../src/pipe/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'shell-expand-'));
  for (const f of [
    'a.txt',
    'b.txt',
    'B.md',
    '.hidden',
    'x1',
    'x2',
    'x10',
    'sp ace',
    'br[a]ck',
    'src/m.ts',
    'src/n.js',
    'src/.dot/p.ts',
    'src/deep/er/q.ts',
    'emptydir/.keep',
  ]) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  symlinkSync('src', join(dir, 'link'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function bash(words: string): string {
  return spawnSync('bash', ['-O', 'globstar', '-O', 'failglob', '-c', `echo ${words}`], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8' },
  }).stdout;
}

describe('shell expansion', () => {
  test(
    'globs and braces give the words bash gives',
    withLeakCheck(async () => {
      for (const words of [
        '*',
        '*.txt',
        '?.txt',
        'x?',
        'x*',
        '[ab].txt',
        '[!a].txt',
        '[^a]*.txt',
        '[[:upper:]]*',
        '.*',
        '*/',
        'src/*',
        'src/**',
        'src/**/*.ts',
        '**/*.ts',
        '**/',
        'link/*',
        './*.txt',
        '../*/a.txt',
        'sp*',
        'br\\[a\\]ck',
        '"*".txt 2>/dev/null || true',
        '{a,b}.txt',
        'x{1..2}',
        '{x,y}{1,2}',
        'src/{m,n}.*',
        "'{a,b}'",
        'a{,b}c',
        '{3..1}',
        '{a..c..2}',
      ]) {
        const expected = bash(words);
        const got = (
          await sh({ cwd: dir, noMatch: 'error' })([
            `echo ${words}`,
          ] as unknown as TemplateStringsArray).nothrow()
        ).stdout.toString();
        assert.equal(got, expected, words);
      }
    }),
  );

  test(
    'a glob that matches nothing is an error naming it, or literal with noMatch: literal',
    withLeakCheck(async () => {
      const err = await sh({ cwd: dir })`echo *.none`.catch((e: unknown) => e);
      assert.ok(err instanceof ShellExpansionError);
      assert.equal(err.code, 'ERR_SLUICE_SHELL_NO_MATCH');
      assert.equal(err.pattern, '*.none');
      assert.match(err.message, /no match: \*\.none \(line 1, column 6/);
      assert.equal(await sh({ cwd: dir, noMatch: 'literal' })`echo *.none`.text(), '*.none\n');
      assert.equal((await sh({ cwd: dir })`echo *.none`.nothrow()).exitCode, 1);
      // Quoted glob characters are never patterns.
      assert.equal(await sh({ cwd: dir })`echo '*.none' "?" \[x\]`.text(), '*.none ? [x]\n');
    }),
  );

  test(
    'parameters: defaults, lengths, splitting of unquoted results, $? and $#',
    withLeakCheck(async () => {
      const out = await sh({ cwd: dir, env: { V: 'a  b', E: '' }, args: ['s', 'p1', 'p2'] })`
        echo \${E:-dflt} \${E-set} \${#V} \${U:+x}end
        printf '[%s]' $V; echo
        printf '[%s]' "$V"; echo
        false; echo $? $# $1
        X=$(printf 'l1\nl2\n\n'); printf '[%s]' "$X"; echo
        printf '[%s]' "$@" "x$@y"; echo`.text();
      assert.equal(out, 'dflt 4 end\n[a][b]\n[a  b]\n1 2 p1\n[l1\nl2]\n[p1][p2][xp1][p2y]\n');
    }),
  );
});
