/**
 * The `sh` tagged template and the `sluice run` grammar: quoting, escapes, redirections,
 * `${value}` as exactly one word, and refusals.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  linewise,
  PipelineError,
  parseCommandLine,
  ShSyntaxError,
  sh,
} from '../../src/pipe/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const argv = (text: string) => parseCommandLine(text).map((c) => c.argv);

describe('pipe: sh grammar', () => {
  test('words, pipes, quotes and escapes', () => {
    assert.deepEqual(argv('echo a  b|cat'), [['echo', 'a', 'b'], ['cat']]);
    assert.deepEqual(argv(`echo 'a | b' "c 'd' \\"e\\" \\$x \\n" f\\ g ''`), [
      ['echo', 'a | b', `c 'd' "e" $x \\n`, 'f g', ''],
    ]);
    assert.deepEqual(argv("grep 'a$' x*.txt [ab] {c,d}"), [
      ['grep', 'a$', 'x*.txt', '[ab]', '{c,d}'],
    ]);
    assert.deepEqual(argv('echo a\\\n  b'), [['echo', 'a', 'b']]);
    assert.deepEqual(argv('awk "{print \\$1}" a2>b'), [['awk', '{print $1}', 'a2']]);
  });

  test('redirections', () => {
    const [c] = parseCommandLine('sort < in.txt > out.txt 2>&1');
    assert.deepEqual(c, {
      kind: 'command',
      argv: ['sort'],
      stdinFile: 'in.txt',
      stdoutFile: 'out.txt',
      stdoutAppend: false,
      stderr: 'stdout',
    });
    const [d] = parseCommandLine('cmd >>log 2>> err.txt');
    assert.equal(d!.stdoutAppend, true);
    assert.deepEqual(d!.stderr, { file: 'err.txt', append: true });
  });

  test('refusals are ShSyntaxError with an offset', () => {
    for (const [text, re] of [
      ['echo $HOME', /\$ expansion is not supported/],
      ['echo "$(id)"', /\$ expansion/],
      ['a; b', /';' is not supported/],
      ['a && b', /'&&' is not supported/],
      ['a || b', /'\|\|' is not supported/],
      ['a &', /'&' is not supported/],
      ['echo `id`', /command substitution/],
      ['(a)', /subshells/],
      ['cat <<EOF', /'<<' is not supported/],
      ["echo 'open", /unterminated single quote/],
      ['echo "open', /unterminated double quote/],
      ['', /empty command/],
      ['a | | b', /empty command/],
      ['a |', /empty command/],
      ['cat <', /'<' needs a file name/],
      ['echo # no', /comments are not supported/],
      ['ls ~/x', /~ expansion is not supported/],
      ['a 2>&3', /only '2>&1'/],
    ] as const) {
      assert.throws(
        () => parseCommandLine(text),
        (e: unknown) => e instanceof ShSyntaxError && re.test(e.message) && e.offset >= 0,
        text,
      );
    }
  });

  test('a \u0024{value} is exactly one word, never parsed; arrays spread; bad values refused', () => {
    const evil = 'a b; rm -rf / $(id) | cat > x';
    assert.deepEqual(
      sh`echo ${evil} ${''} x${1}y "q ${'r s'}" ${['p', 'q r']} ${[]} z`.stages.map(
        (s) => (s as unknown as { args: string[] }).args,
      ),
      [[evil, '', 'x1y', 'q r s', 'p', 'q r', 'z']],
    );
    assert.throws(() => sh`echo ${undefined}`, ShSyntaxError);
    assert.throws(() => sh`echo ${{ a: 1 }}`, ShSyntaxError);
    assert.throws(() => sh`echo x${['a', 'b']}`, ShSyntaxError);
  });

  test('property: any string value survives as one argv word', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const stage = sh`printf %s ${a} ${b}`.stages[0] as unknown as { args: string[] };
        assert.deepEqual(stage.args, ['%s', a, b]);
      }),
      { numRuns: 300 },
    );
  });

  test(
    'runs: a pipeline with a stage value, redirections into and out of files',
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pipetest-sh-'));
      try {
        writeFileSync(join(dir, 'in.txt'), 'b\na\nc\n');
        const up = linewise('up', (l) => l.toUpperCase());
        assert.equal(await sh({ cwd: dir })`sort < in.txt | ${up} | head -n 2`.text(), 'A\nB\n');
        await sh({ cwd: dir })`echo one > out.txt`.run();
        await sh({ cwd: dir })`echo two >> out.txt`.run();
        await sh({ cwd: dir })`sh -c ${'echo err >&2'} 2> err.txt`.run();
        await sh({ cwd: dir })`sh -c ${'echo both >&2'} > both.txt 2>&1`.run();
        assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'one\ntwo\n');
        assert.equal(readFileSync(join(dir, 'err.txt'), 'utf8'), 'err\n');
        assert.equal(readFileSync(join(dir, 'both.txt'), 'utf8'), 'both\n');
        const err = await sh({ cwd: dir })`cat < missing.txt`.run().catch((e) => e);
        assert.ok(err instanceof PipelineError);
        assert.match(err.message, /^cat: cannot open missing\.txt for reading \(ENOENT\)$/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
