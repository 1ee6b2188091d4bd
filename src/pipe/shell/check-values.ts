/**
 * The template's up-front check of its values: each must suit the place it stands in (a word, a
 * command position, a redirection target, a string context, an arithmetic expression), so a bad
 * value is refused before anything runs.
 */

import { ShellValueError } from './errors.js';
import { describeValue, isStage, scalarWord, streamValue } from './expansion/values.js';
import type { Script, Word } from './syntax/ast.js';

/** Checks every value against the place it is used in, before anything runs. */
export function checkValues(script: Script, values: readonly unknown[]): void {
  const word = (w: Word, role: Role) => {
    for (const p of w.parts) {
      if (p.type === 'parameter' && p.word) word(p.word, 'string');
      if (p.type === 'command-substitution') walk(p.body);
      if (p.type === 'arithmetic') {
        for (const q of p.expression.parts) {
          if (
            q.type === 'value' &&
            typeof values[q.index] !== 'number' &&
            typeof values[q.index] !== 'bigint'
          ) {
            refuse('a template value inside $((…)) must be a number or a bigint', w);
          }
        }
        word(p.expression, 'string');
      }
      if (p.type !== 'value') continue;
      checkValue(values[p.index], w.parts.length === 1, role, w);
    }
  };
  const walk = (s: Script) => {
    for (const st of s.statements) {
      for (const pl of [st.first, ...st.rest.map((r) => r.pipeline)]) {
        for (const c of pl.commands) {
          if (c.type === 'group') walk(c.body);
          else {
            for (const a of c.assignments) word(a.value, 'string');
            for (const [i, w] of c.words.entries())
              word(
                w,
                i === 0 &&
                  c.words.length === 1 &&
                  c.assignments.length === 0 &&
                  c.redirections.length === 0
                  ? 'command'
                  : 'word',
              );
          }
          for (const r of c.redirections) {
            if (r.target.type === 'heredoc') word(r.target.body, 'string');
            else word(r.target, r.op === '<<<' ? 'string' : 'target');
          }
        }
      }
    }
  };
  walk(script);
}

type Role = 'word' | 'command' | 'target' | 'string';

function refuse(reason: string, w: { line: number; column: number }): never {
  throw new ShellValueError(reason, { line: w.line, column: w.column, offset: 0 });
}

/** Checks one value standing in word `w` (`alone` when it is the whole word) in `role`. */
function checkValue(v: unknown, alone: boolean, role: Role, w: Word): void {
  const text = scalarWord(v);
  if (text !== undefined) {
    if (text.includes('\0'))
      refuse('a template value cannot hold a NUL byte (argv words end at one)', w);
    return;
  }
  if (alone && Array.isArray(v) && role !== 'string' && role !== 'target') {
    for (const x of v)
      if (scalarWord(x) === undefined || scalarWord(x)!.includes('\0'))
        refuse(
          `a template array may hold only strings, numbers, bigints and booleans; got ${describeValue(x)}`,
          w,
        );
    return;
  }
  if (alone && role === 'command' && isStage(v)) return;
  if (alone && role === 'target' && streamValue(v)) return;
  const hint = isStage(v)
    ? ' (a stage must stand alone between pipes)'
    : streamValue(v)
      ? ' (streams, bytes and file handles go right after < or >)'
      : Array.isArray(v)
        ? ' (an array must be a word by itself)'
        : '';
  refuse(
    `a template value here must be a string, number, bigint or boolean; got ${describeValue(v)}${hint}`,
    w,
  );
}
