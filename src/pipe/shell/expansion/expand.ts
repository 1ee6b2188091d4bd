/**
 * Word expansion, in bash's order: braces, then tilde, parameters and command substitutions (left
 * to right), then field splitting of unquoted parameter and substitution results on IFS
 * whitespace, then pathname expansion, then quote removal. Template values take part in none of
 * it: each is exactly one word (an array standing alone: one word per element), never split,
 * globbed or parsed.
 */

import { execFileSync } from 'node:child_process';
import { homedir, userInfo } from 'node:os';
import { ShellExpansionError, ShellValueError } from '../errors.js';
import type { ShellState } from '../run/state.js';
import type { ParameterPart, Position, Script, Word, WordPart } from '../syntax/ast.js';
import { evaluateArithmetic } from './arithmetic.js';
import { expandBraces } from './braces.js';
import { glob, hasGlob, type PatternChar, patternRegex } from './glob.js';
import { describeValue, isStage, type StreamValue, scalarWord, streamValue } from './values.js';

/** What expansion needs from the interpreter. */
export interface ExpandContext {
  readonly state: ShellState;
  /** The template's values (empty for text from the command line or a file). */
  readonly values: readonly unknown[];
  /** What a glob that matches nothing does: an error (default), or stays as written. */
  readonly noMatch: 'error' | 'literal';
  /** Runs `$(…)` and resolves with its stdout. */
  substitute(body: Script): Promise<string>;
}

/** A piece of text on its way to becoming part of a field. */
interface Piece {
  text: string;
  /** Literal for globbing (quoted text, values, tilde results). */
  quoted: boolean;
  /** Subject to field splitting (unquoted parameter and substitution results). */
  split: boolean;
  /** Ends the field before it (between the words of "$@"). */
  fieldBreak?: boolean;
}

const at = (p: Position) => ({ line: p.line, column: p.column, offset: 0 });

/** Expands command words into argv strings. */
export async function expandWords(words: readonly Word[], ctx: ExpandContext): Promise<string[]> {
  const out: string[] = [];
  for (const w of words) out.push(...(await expandWord(w, ctx)));
  return out;
}

/** Expands one word into zero or more fields (bash's order; see the module comment). */
export async function expandWord(word: Word, ctx: ExpandContext): Promise<string[]> {
  const lone = loneValue(word, ctx);
  if (lone !== undefined) return lone;
  const out: string[] = [];
  for (const w of expandBraces(word)) {
    const pieces = await piecesOf(w, ctx, false);
    for (const field of splitFields(pieces)) {
      if (!hasGlob(field)) {
        out.push(field.map((c) => c.ch).join(''));
        continue;
      }
      const matches = glob(field, ctx.state.cwd);
      if (matches.length > 0) out.push(...matches);
      else {
        const pattern = field.map((c) => c.ch).join('');
        if (ctx.noMatch === 'literal') out.push(pattern);
        else
          throw new ShellExpansionError(
            'ERR_SLUICE_SHELL_NO_MATCH',
            `no match: ${pattern} (line ${w.line}, column ${w.column}; quote it to pass it as is)`,
            1,
            pattern,
          );
      }
    }
  }
  return out;
}

/**
 * Expands a word that must stay one string: an assignment's value, a here-document body, the
 * word of `${NAME:-word}`. No splitting, no globbing.
 */
export async function expandString(word: Word, ctx: ExpandContext): Promise<string> {
  const pieces = await piecesOf(word, ctx, true);
  return pieces.map((p) => p.text).join('');
}

/**
 * Expands a redirection target: a template value that is bytes, a stream or a file handle is
 * returned as is; otherwise the word must expand to exactly one field.
 */
export async function expandTarget(
  word: Word,
  ctx: ExpandContext,
  direction: 'in' | 'out' = 'in',
): Promise<string | StreamValue> {
  if (word.parts.length === 1 && word.parts[0]!.type === 'value') {
    const v = ctx.values[word.parts[0]!.index];
    const s = streamValue(v, direction);
    if (s) return s;
  }
  const fields = await expandWord(word, ctx);
  if (fields.length !== 1) {
    throw new ShellExpansionError(
      'ERR_SLUICE_SHELL_AMBIGUOUS_REDIRECT',
      `ambiguous redirect: the target expands to ${fields.length} words (line ${word.line}, column ${word.column})`,
      1,
    );
  }
  return fields[0]!;
}

/** A word that is exactly one template value: its words (an array spreads), else undefined. */
function loneValue(word: Word, ctx: ExpandContext): string[] | undefined {
  if (word.parts.length !== 1 || word.parts[0]!.type !== 'value') return undefined;
  const v = ctx.values[word.parts[0]!.index];
  if (!Array.isArray(v)) return [valueWord(v, word)];
  return v.map((x) => valueWord(x, word));
}

function valueWord(v: unknown, where: Position): string {
  const s = scalarWord(v);
  if (s !== undefined) return s;
  const what = describeValue(v);
  const hint = isStage(v)
    ? ' (a stage must stand alone between pipes)'
    : streamValue(v)
      ? ' (streams and bytes go after < or >)'
      : Array.isArray(v)
        ? ' (an array must be a word by itself)'
        : '';
  throw new ShellValueError(
    `a template value must be a string, number, bigint or boolean here; got ${what}${hint}`,
    at(where),
  );
}

async function piecesOf(word: Word, ctx: ExpandContext, asString: boolean): Promise<Piece[]> {
  const pieces: Piece[] = [];
  for (const part of word.parts) pieces.push(...(await pieceOf(part, word, ctx, asString)));
  return pieces;
}

async function pieceOf(
  part: WordPart,
  word: Word,
  ctx: ExpandContext,
  asString: boolean,
): Promise<Piece[]> {
  switch (part.type) {
    case 'literal':
      return [{ text: part.text, quoted: part.quoted, split: false }];
    case 'value':
      return [{ text: valueWord(ctx.values[part.index], word), quoted: true, split: false }];
    case 'tilde':
      return [{ text: tilde(part.user, ctx.state), quoted: true, split: false }];
    case 'arithmetic': {
      let text = '';
      for (const p of part.expression.parts) {
        if (p.type === 'value') {
          const v = ctx.values[p.index];
          if (typeof v !== 'number' && typeof v !== 'bigint') {
            throw new ShellValueError(
              'a template value inside $((…)) must be a number or a bigint',
              at(word),
            );
          }
          text += String(v);
        } else text += (await pieceOf(p, word, ctx, true)).map((x) => x.text).join('');
      }
      const value = evaluateArithmetic(text, ctx.state);
      return [{ text: value, quoted: part.quoted || asString, split: !part.quoted && !asString }];
    }
    case 'command-substitution': {
      const text = (await ctx.substitute(part.body)).replace(/\n+$/, '');
      return [{ text, quoted: part.quoted || asString, split: !part.quoted && !asString }];
    }
    case 'parameter': {
      if (part.name === '@' && part.quoted && !part.op && !asString) {
        // "$@": one word per positional parameter (none at all when there are none).
        const params = ctx.state.positional.slice(1);
        if (params.length === 0) return [{ text: '', quoted: false, split: true }];
        const out: Piece[] = [];
        params.forEach((p, i) => {
          if (i > 0) out.push({ text: '', quoted: true, split: false, fieldBreak: true });
          out.push({ text: p, quoted: true, split: false });
        });
        return out;
      }
      const text = await parameter(part, ctx);
      // A template value in the word of `${NAME:-word}` stays one word: no splitting, no globs.
      const literal =
        part.quoted || asString || (part.word?.parts.some((p) => p.type === 'value') ?? false);
      return [{ text, quoted: literal, split: !literal }];
    }
  }
}

function tilde(user: string, state: ShellState): string {
  if (user === '') return state.vars.get('HOME') ?? homedir();
  if (user === userInfo().username) return homedir();
  try {
    const line = execFileSync('getent', ['passwd', user], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const home = line.split(':')[5];
    if (home) return home;
  } catch {}
  return `~${user}`;
}

function lookup(name: string, state: ShellState): string | undefined {
  switch (name) {
    case '?':
      return String(state.status);
    case '$':
      return String(state.pid);
    case '#':
      return String(Math.max(0, state.positional.length - 1));
    case '@':
    case '*':
      return state.positional.slice(1).join(' ');
  }
  if (/^[0-9]+$/.test(name)) return state.positional[Number(name)];
  return state.vars.get(name);
}

async function parameter(part: ParameterPart, ctx: ExpandContext): Promise<string> {
  const state = ctx.state;
  const value = lookup(part.name, state);
  const op = part.op;
  if (op === 'length') return String((value ?? '').length);
  if (op === '#' || op === '##' || op === '%' || op === '%%') {
    if (value === undefined && state.flags.nounset) {
      throw new ShellExpansionError(
        'ERR_SLUICE_SHELL_UNSET',
        `${part.name}: unbound variable`,
        127,
      );
    }
    return removeMatch(value ?? '', op, part.word ? await patternOf(part.word, ctx) : /^$/);
  }
  if (op === undefined) {
    if (value === undefined && state.flags.nounset && !['@', '*'].includes(part.name)) {
      throw new ShellExpansionError(
        'ERR_SLUICE_SHELL_UNSET',
        `${part.name}: unbound variable (line ${part.line}, column ${part.column})`,
        127,
      );
    }
    return value ?? '';
  }
  const colon = op.startsWith(':');
  const missing = value === undefined || (colon && value === '');
  const word = () => (part.word ? expandString(part.word, ctx) : Promise.resolve(''));
  switch (op.replace(':', '')) {
    case '-':
      return missing ? word() : value!;
    case '=': {
      if (!missing) return value!;
      if (!/^[A-Za-z_]/.test(part.name)) {
        throw new ShellExpansionError(
          'ERR_SLUICE_SHELL_UNSET',
          `$${part.name}: cannot assign in this way`,
          1,
        );
      }
      const v = await word();
      state.vars.set(part.name, v);
      return v;
    }
    case '?': {
      if (!missing) return value!;
      const msg = (await word()) || (colon ? 'parameter null or not set' : 'parameter not set');
      throw new ShellExpansionError('ERR_SLUICE_SHELL_UNSET', `${part.name}: ${msg}`, 127);
    }
    case '+':
      return missing ? '' : word();
  }
  return value ?? '';
}

/** The pattern of `${NAME%pattern}` and kin: quoted parts literal, the rest pattern characters. */
async function patternOf(word: Word, ctx: ExpandContext): Promise<RegExp> {
  const chars: PatternChar[] = [];
  for (const p of await piecesOf(word, ctx, false)) {
    for (const ch of p.text) chars.push({ ch, quoted: p.quoted });
  }
  return patternRegex(chars);
}

/** Removes the shortest (`#`, `%`) or longest (`##`, `%%`) matching prefix or suffix. */
function removeMatch(value: string, op: '#' | '##' | '%' | '%%', re: RegExp): string {
  const n = value.length;
  if (op === '#') {
    for (let i = 0; i <= n; i++) if (re.test(value.slice(0, i))) return value.slice(i);
  } else if (op === '##') {
    for (let i = n; i >= 0; i--) if (re.test(value.slice(0, i))) return value.slice(i);
  } else if (op === '%') {
    for (let i = n; i >= 0; i--) if (re.test(value.slice(i))) return value.slice(0, i);
  } else {
    for (let i = 0; i <= n; i++) if (re.test(value.slice(i))) return value.slice(0, i);
  }
  return value;
}

/** Field splitting on IFS whitespace (space, tab, newline), keeping quoting per character. */
function splitFields(pieces: Piece[]): PatternChar[][] {
  const fields: PatternChar[][] = [];
  let cur: PatternChar[] = [];
  let keep = false; // the current field has quoted content, so it survives even when empty
  const end = () => {
    if (cur.length > 0 || keep) fields.push(cur);
    cur = [];
    keep = false;
  };
  for (const p of pieces) {
    if (p.fieldBreak) {
      keep = true;
      end();
      keep = true;
      continue;
    }
    if (!p.split) {
      if (p.quoted) keep = true;
      for (const ch of p.text) cur.push({ ch, quoted: p.quoted });
      continue;
    }
    for (const ch of p.text) {
      if (ch === ' ' || ch === '\t' || ch === '\n') {
        if (cur.length > 0 || keep) end();
      } else cur.push({ ch, quoted: false });
    }
  }
  end();
  return fields;
}
