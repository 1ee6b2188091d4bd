/**
 * The parser: the AST it builds for the supported language, and the refusals (typed errors naming
 * the construct, its line and column) for everything else. Parsing never runs anything.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseScript,
  parseTemplate,
  ShellSyntaxError,
  ShellUnsupportedError,
  ShSyntaxError,
} from '../../../src/pipe/index.js';
import type { SimpleCommand, Word } from '../../../src/pipe/shell/syntax/ast.js';

const text = (w: Word) =>
  w.parts.map((p) => (p.type === 'literal' ? p.text : `<${p.type}>`)).join('');
const simple = (src: string, s = 0, c = 0) =>
  parseScript(src).statements[s]!.first.commands[c] as SimpleCommand;

describe('shell parser', () => {
  test('statements, and-or lists, pipelines, negation, groups', () => {
    const s = parseScript('a | b && ! c || d; e\n(f; g) | { h; }');
    assert.equal(s.statements.length, 3);
    const [first, second, third] = s.statements;
    assert.equal(first!.first.commands.length, 2);
    assert.deepEqual(
      first!.rest.map((r) => [r.op, r.pipeline.negated]),
      [
        ['&&', true],
        ['||', false],
      ],
    );
    assert.equal(text((second!.first.commands[0] as SimpleCommand).words[0]!), 'e');
    const sub = third!.first.commands[0]!;
    const brace = third!.first.commands[1]!;
    assert.ok(sub.type === 'group' && sub.subshell && sub.body.statements.length === 2);
    assert.ok(brace.type === 'group' && !brace.subshell);
    assert.deepEqual([third!.line, third!.column], [2, 1]);
  });

  test('assignments, words, redirections with fds, left to right', () => {
    const c = simple(
      'A=1 B+=x cmd arg 2>&1 >out.txt 0<in <<<here 3< /dev/null'.replace(' 3< /dev/null', ''),
    );
    assert.deepEqual(
      c.assignments.map((a) => [a.name, a.append, text(a.value)]),
      [
        ['A', false, '1'],
        ['B', true, 'x'],
      ],
    );
    assert.deepEqual(c.words.map(text), ['cmd', 'arg']);
    assert.deepEqual(
      c.redirections.map((r) => [r.fd, r.op]),
      [
        [2, '>&'],
        [1, '>'],
        [0, '<'],
        [0, '<<<'],
      ],
    );
    assert.deepEqual(simple('echo hi 1> f').words.map(text), ['echo', 'hi']);
    assert.deepEqual(simple('echo a2>b').words.map(text), ['echo', 'a2']);
    assert.deepEqual(
      simple('x &>f &>>g >|h').redirections.map((r) => r.op),
      ['&>', '&>>', '>|'],
    );
  });

  test('quoting, expansions and values are parts of a word', () => {
    const w = simple(`echo pre'q $x'"d $y $(z) \`w\`"$'a\\tb'\${n:-d}~`).words[1]!;
    assert.deepEqual(
      w.parts.map((p) => [p.type, 'quoted' in p ? p.quoted : null]),
      [
        ['literal', false],
        ['literal', true],
        ['parameter', true],
        ['literal', true],
        ['command-substitution', true],
        ['literal', true],
        ['command-substitution', true],
        ['literal', true],
        ['parameter', false],
        ['literal', false],
      ],
    );
    const t = parseTemplate(['echo ', ' "a', '"'], 2);
    const parts = (t.statements[0]!.first.commands[0] as SimpleCommand).words.map((x) =>
      x.parts.map((p) => p.type),
    );
    assert.deepEqual(parts, [['literal'], ['value'], ['literal', 'value', 'literal']]);
    assert.equal(simple('echo ~/x ~user').words[1]!.parts[0]!.type, 'tilde');
    assert.equal(simple('X=~/bin').assignments[0]!.value.parts[0]!.type, 'tilde');
  });

  test('here-documents: bodies, quoting, <<- tabs, several on one line', () => {
    const s = parseScript("cat <<A <<-'B'\nline $x\nA\n\tliteral $y\n\tB\necho after");
    const c = s.statements[0]!.first.commands[0] as SimpleCommand;
    const a = c.redirections[0]!.target;
    const b = c.redirections[1]!.target;
    assert.ok(a.type === 'heredoc' && !a.quoted && b.type === 'heredoc' && b.quoted);
    assert.deepEqual(
      a.body.parts.map((p) => p.type),
      ['literal', 'parameter', 'literal'],
    );
    assert.equal(text(b.body), 'literal $y\n');
    assert.equal(s.statements.length, 2);
  });

  test('comments, line continuations, blank lines', () => {
    const s = parseScript('# header\n\necho a \\\n  b # trailing\n\n');
    assert.equal(s.statements.length, 1);
    assert.deepEqual((s.statements[0]!.first.commands[0] as SimpleCommand).words.map(text), [
      'echo',
      'a',
      'b',
    ]);
  });

  test('refusals name the construct, line and column and are ShSyntaxErrors', () => {
    for (const [src, construct, line, column] of [
      ['if true; then x; fi', "'if'", 1, 1],
      ['echo a\nfor i in 1; do :; done', "'for'", 2, 1],
      ['x &', "'&'", 1, 3],
      ['echo $[1+2]', "'$[…]'", 1, 6],
      ['((x++))', "'((…))'", 1, 1],
      ['f() { :; }', "'f()'", 1, 1],
      ['echo \u0024{x/y/z}', "'\u0024{x/…}'", 1, 6],
      ['cat <(ls)', "'<(…)'", 1, 5],
      ['eval x', "'eval'", 1, 1],
      ['a 3>f', "'3>'", 1, 3],
      ['a >&-', "'>&-'", 1, 3],
      ['[[ -f x ]]', "'[['", 1, 1],
      ['echo $!', "'$!'", 1, 6],
    ] as const) {
      assert.throws(
        () => parseScript(src),
        (e: unknown) =>
          e instanceof ShellUnsupportedError &&
          e instanceof ShSyntaxError &&
          e.code === 'ERR_SLUICE_SHELL_UNSUPPORTED' &&
          e.construct === construct &&
          e.line === line &&
          e.column === column,
        src,
      );
    }
  });

  test('syntax errors: unterminated quotes, dangling operators, unbalanced groups', () => {
    for (const [src, re] of [
      ["echo 'open", /unterminated single quote \(line 1, column 6\)/],
      ['echo "open', /unterminated double quote/],
      ['a |', /unexpected the end of the text/],
      ['a && && b', /unexpected '&&'/],
      ['(a', /missing '\)'/],
      ['{ a; ', /missing '}'/],
      ['a )', /unexpected '\)'/],
      ['cat <<EOF\nno end', /no end line/],
      ['echo ${', /bad substitution|unterminated/],
      ['cat <', /needs a file name/],
    ] as const) {
      assert.throws(
        () => parseScript(src),
        (e: unknown) =>
          e instanceof ShellSyntaxError &&
          e.code === 'ERR_SLUICE_SHELL_SYNTAX' &&
          re.test(e.message),
        src,
      );
    }
  });
});
