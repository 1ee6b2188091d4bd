/**
 * The `sh` tagged template and the command-line grammar of `sluice run`: a small, safe subset of
 * shell syntax that builds a pipeline without ever running a shell.
 *
 * Supported: `|`; single quotes (literal); double quotes (backslash escapes `"`, `\`, `$` and
 * `` ` ``); backslash escapes outside quotes; `< file`, `> file`, `>> file`, `2> file`,
 * `2>> file`, `2>&1`. Newlines count as spaces. Every `${value}` is exactly one argv word (an
 * empty string too), never parsed as shell; an array spreads into one word per element; a Stage
 * standing alone between pipes becomes that stage. Not supported, and refused with
 * `ShSyntaxError` rather than misread: `$VAR` and `$(…)`, backticks, `;`, `&`, `&&`, `||`,
 * subshells, here-documents, comments and `~`. No globbing: `*`, `?`, `[` are plain characters.
 */
import { command, type StderrOption } from './command.js';
import { PipeUsageError, ShSyntaxError } from './errors.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import type { Stage } from './stage.js';

/** One command of a parsed command line. */
export interface ParsedCommand {
  kind: 'command';
  argv: string[];
  stdinFile?: string;
  stdoutFile?: string;
  stdoutAppend?: boolean;
  stderr?: 'stdout' | { file: string; append: boolean };
}

/** One element of a parsed pipeline: a command, or a stage given as a `${value}`. */
export type ParsedElement = ParsedCommand | { kind: 'stage'; stage: Stage };

/** Options of `sh(options)`: the pipeline's, plus where every command's stderr goes. */
export interface ShOptions extends PipelineOptions {
  stderr?: StderrOption;
}

type Part = { text: string } | { value: unknown; quoted: boolean };
interface Word {
  parts: Part[];
  offset: number;
}
type Token =
  | { word: Word }
  | { op: '|' | '<' | '>' | '>>' | '2>' | '2>>' | '2>&1'; offset: number };

const NAME_START = /[A-Za-z_{(0-9@*#?$!-]/;
/** How messages name a template value (spelled so that no linter takes it for a placeholder). */
const VALUE = '\u0024{…}';

function isStage(v: unknown): v is Stage {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Stage).start === 'function' &&
    typeof (v as Stage).wait === 'function' &&
    'preferences' in v
  );
}

/** Splits template pieces and values into words and operators. */
function tokenize(pieces: readonly string[], values: readonly unknown[]): Token[] {
  const tokens: Token[] = [];
  let word: Word | undefined;
  let base = 0;
  const addText = (text: string, at: number) => {
    word ??= { parts: [], offset: at };
    const last = word.parts[word.parts.length - 1];
    if (last && 'text' in last) last.text += text;
    else word.parts.push({ text });
  };
  const endWord = () => {
    if (word) tokens.push({ word });
    word = undefined;
  };
  const fail = (msg: string, at: number): never => {
    throw new ShSyntaxError(`sh: ${msg} (at offset ${at})`, at);
  };
  let quote: "'" | '"' | undefined;
  let quoteStart = 0;
  for (let p = 0; p < pieces.length; p++) {
    const s = pieces[p]!;
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      const at = base + i;
      if (quote === "'") {
        if (c === "'") quote = undefined;
        else addText(c, at);
        continue;
      }
      if (quote === '"') {
        if (c === '"') quote = undefined;
        else if (c === '\\') {
          const n = s[i + 1];
          if (n === '"' || n === '\\' || n === '$' || n === '`') {
            addText(n, at);
            i++;
          } else if (n === '\n') i++;
          else addText('\\', at);
        } else if (c === '$' && NAME_START.test(s[i + 1] ?? '')) {
          fail(`$ expansion is not supported (pass values as ${VALUE})`, at);
        } else if (c === '`') fail('command substitution is not supported', at);
        else addText(c, at);
        continue;
      }
      switch (c) {
        case ' ':
        case '\t':
        case '\n':
        case '\r':
          endWord();
          break;
        case "'":
        case '"':
          quote = c;
          quoteStart = at;
          word ??= { parts: [], offset: at };
          addText('', at);
          break;
        case '\\': {
          const n = s[i + 1];
          if (n === undefined) fail('a backslash at the end', at);
          if (n !== '\n') addText(n!, at);
          i++;
          break;
        }
        case '|':
          if (s[i + 1] === '|') fail("'||' is not supported", at);
          if (s[i + 1] === '&') fail("'|&' is not supported (use 2>&1 |)", at);
          endWord();
          tokens.push({ op: '|', offset: at });
          break;
        case '<':
          if (s[i + 1] === '<' || s[i + 1] === '>' || s[i + 1] === '(') {
            fail(`'<${s[i + 1]}' is not supported`, at);
          }
          endWord();
          tokens.push({ op: '<', offset: at });
          break;
        case '>':
          if (s[i + 1] === '&' || s[i + 1] === '|' || s[i + 1] === '(') {
            fail(`'>${s[i + 1]}' is not supported`, at);
          }
          endWord();
          if (s[i + 1] === '>') {
            tokens.push({ op: '>>', offset: at });
            i++;
          } else tokens.push({ op: '>', offset: at });
          break;
        case '2':
          if (!word && s[i + 1] === '>') {
            if (s.startsWith('2>&1', i)) {
              tokens.push({ op: '2>&1', offset: at });
              i += 3;
            } else if (s[i + 2] === '&') {
              fail("only '2>&1' is supported among fd duplications", at);
            } else if (s[i + 2] === '>') {
              tokens.push({ op: '2>>', offset: at });
              i += 2;
            } else {
              tokens.push({ op: '2>', offset: at });
              i += 1;
            }
          } else addText(c, at);
          break;
        case ';':
          fail("';' is not supported (one pipeline only)", at);
          break;
        case '&':
          fail(`'${s[i + 1] === '&' ? '&&' : '&'}' is not supported`, at);
          break;
        case '(':
        case ')':
          fail('subshells are not supported', at);
          break;
        case '`':
          fail('command substitution is not supported', at);
          break;
        case '$':
          if (NAME_START.test(s[i + 1] ?? '')) {
            fail(`$ expansion is not supported (pass values as ${VALUE})`, at);
          }
          addText(c, at);
          break;
        case '#':
          if (!word) fail('comments are not supported', at);
          addText(c, at);
          break;
        case '~':
          if (!word) fail('~ expansion is not supported', at);
          addText(c, at);
          break;
        default:
          addText(c, at);
      }
    }
    base += s.length;
    if (p < values.length) {
      word ??= { parts: [], offset: base };
      word.parts.push({ value: values[p], quoted: quote !== undefined });
      base += 1;
    }
  }
  if (quote) fail(`unterminated ${quote === "'" ? 'single' : 'double'} quote`, quoteStart);
  endWord();
  return tokens;
}

function scalar(v: unknown, at: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  const what = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
  throw new ShSyntaxError(
    `sh: ${VALUE} must be a string, number, boolean, an array of those standing alone as a word, or a stage; got ${what} (at offset ${at})`,
    at,
  );
}

/** A word as argv strings (several for a lone array) or a stage. */
function expand(word: Word): string[] | Stage {
  const only = word.parts.length === 1 ? word.parts[0]! : undefined;
  if (only && 'value' in only && !only.quoted) {
    if (isStage(only.value)) return only.value;
    if (Array.isArray(only.value)) return only.value.map((v) => scalar(v, word.offset));
  }
  let s = '';
  for (const part of word.parts) s += 'text' in part ? part.text : scalar(part.value, word.offset);
  return [s];
}

/** Parses template pieces (use the raw strings) and values into pipeline elements. */
export function parse(pieces: readonly string[], values: readonly unknown[] = []): ParsedElement[] {
  const tokens = tokenize(pieces, values);
  const elements: ParsedElement[] = [];
  let cur: ParsedCommand = { kind: 'command', argv: [] };
  let stage: Stage | undefined;
  let touched = false;
  let lastOffset = 0;
  const fail = (msg: string, at: number): never => {
    throw new ShSyntaxError(`sh: ${msg} (at offset ${at})`, at);
  };
  const finish = (at: number) => {
    if (stage) {
      if (touched) fail(`a stage given as ${VALUE} must stand alone between pipes`, at);
      elements.push({ kind: 'stage', stage });
    } else {
      if (cur.argv.length === 0)
        fail(touched ? 'a redirection without a command' : 'empty command', at);
      elements.push(cur);
    }
    cur = { kind: 'command', argv: [] };
    stage = undefined;
    touched = false;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ('word' in t) {
      lastOffset = t.word.offset;
      const w = expand(t.word);
      if (Array.isArray(w)) {
        if (stage) fail(`a stage given as ${VALUE} must stand alone between pipes`, t.word.offset);
        cur.argv.push(...w);
        if (w.length > 0) touched = true;
        if (w.length === 0) touched = touched || false;
      } else {
        if (stage || cur.argv.length > 0 || touched) {
          fail(`a stage given as ${VALUE} must stand alone between pipes`, t.word.offset);
        }
        stage = w;
      }
      continue;
    }
    lastOffset = t.offset;
    if (t.op === '|') {
      finish(t.offset);
      continue;
    }
    touched = true;
    if (t.op === '2>&1') {
      cur.stderr = 'stdout';
      continue;
    }
    const next = tokens[i + 1];
    if (!next || !('word' in next)) fail(`'${t.op}' needs a file name`, t.offset);
    const target = expand((next as { word: Word }).word);
    if (!Array.isArray(target) || target.length !== 1 || target[0] === '') {
      fail(`'${t.op}' needs exactly one file name`, t.offset);
    }
    const file = (target as string[])[0]!;
    i++;
    if (t.op === '<') cur.stdinFile = file;
    else if (t.op === '>' || t.op === '>>') {
      cur.stdoutFile = file;
      cur.stdoutAppend = t.op === '>>';
    } else cur.stderr = { file, append: t.op === '2>>' };
  }
  if (tokens.length === 0) fail('empty command', 0);
  finish(lastOffset);
  return elements;
}

/** Parses a `sluice run` command line (no `${…}` values) into pipeline elements. */
export function parseCommandLine(text: string): ParsedCommand[] {
  return parse([text]) as ParsedCommand[];
}

/** Turns parsed elements into stages; `stderr` applies to commands without a `2>` of their own. */
export function toStages(elements: readonly ParsedElement[], stderr?: StderrOption): Stage[] {
  return elements.map((e) => {
    if (e.kind === 'stage') return e.stage;
    const [file, ...args] = e.argv;
    return command(file!, args, {
      stdinFile: e.stdinFile,
      stdoutFile: e.stdoutFile,
      stdoutAppend: e.stdoutAppend,
      stderr: e.stderr ?? stderr,
    });
  });
}

type Tag = (strings: TemplateStringsArray, ...values: unknown[]) => Pipeline;

/**
 * Builds a pipeline from shell-like syntax: `` sh`grep -c ${word} ${file} | sort` `` or, with
 * options, `` sh({ cwd, signal })`…` ``. Nothing runs until the pipeline is run. Each `${value}`
 * is exactly one argv word; see the module comment for the grammar. Throws `ShSyntaxError` for
 * anything outside it.
 */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): Pipeline;
export function sh(options: ShOptions): Tag;
export function sh(first: TemplateStringsArray | ShOptions, ...values: unknown[]): Pipeline | Tag {
  if (Array.isArray(first)) return build({}, first as TemplateStringsArray, values);
  if (typeof first !== 'object' || first === null) {
    throw new PipeUsageError('sh: use it as a tag (sh`…`) or with options (sh({…})`…`)');
  }
  const options = first as ShOptions;
  return (strings: TemplateStringsArray, ...vals: unknown[]) => build(options, strings, vals);
}

function build(options: ShOptions, strings: TemplateStringsArray, values: unknown[]): Pipeline {
  const pieces = strings.raw ?? strings;
  const elements = parse(pieces, values);
  const { stderr, ...pipelineOptions } = options;
  return new Pipeline(pipelineOptions).add(...toStages(elements, stderr));
}
