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
  const bad = (reason: string, w: { line: number; column: number }): never => {
    throw new ShellValueError(reason, { line: w.line, column: w.column, offset: 0 });
  };
  const word = (w: Word, role: 'word' | 'command' | 'target' | 'string') => {
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
            bad('a template value inside $((…)) must be a number or a bigint', w);
          }
        }
        word(p.expression, 'string');
      }
      if (p.type !== 'value') continue;
      const v = values[p.index];
      const alone = w.parts.length === 1;
      const text = scalarWord(v);
      if (text !== undefined) {
        if (text.includes('\0'))
          bad('a template value cannot hold a NUL byte (argv words end at one)', w);
        continue;
      }
      if (alone && Array.isArray(v) && role !== 'string' && role !== 'target') {
        for (const x of v)
          if (scalarWord(x) === undefined || scalarWord(x)!.includes('\0'))
            bad(
              `a template array may hold only strings, numbers, bigints and booleans; got ${describeValue(x)}`,
              w,
            );
        continue;
      }
      if (alone && role === 'command' && isStage(v)) continue;
      if (alone && role === 'target' && streamValue(v)) continue;
      const hint = isStage(v)
        ? ' (a stage must stand alone between pipes)'
        : streamValue(v)
          ? ' (streams, bytes and file handles go right after < or >)'
          : Array.isArray(v)
            ? ' (an array must be a word by itself)'
            : '';
      bad(
        `a template value here must be a string, number, bigint or boolean; got ${describeValue(v)}${hint}`,
        w,
      );
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
