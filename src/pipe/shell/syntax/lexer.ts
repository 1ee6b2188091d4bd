/**
 * The lexer: reads operators and words (with their quoting, parameter expansions, command
 * substitutions, template values and tildes) from a `Source`. It is driven by the parser, which
 * asks for one token at a time, and calls back into the parser for the script inside `$(…)` and
 * backquotes, so nesting is exact.
 */

import { ShellSyntaxError, ShellUnsupportedError } from '../errors.js';
import { decodeAnsiC } from './ansi-c.js';
import type { LiteralPart, ParameterPart, Position, Script, Word, WordPart } from './ast.js';
import { Source } from './source.js';
import type { Operator, PendingHereDoc, Token } from './tokens.js';

const META = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPECIAL = new Set([
  '?',
  '$',
  '#',
  '@',
  '*',
  '-',
  '!',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
]);

/** The lexer; see the module comment. */
export class Lexer {
  readonly source: Source;
  pos: number;
  readonly #parseSub: (lexer: Lexer, end: ')' | 'eof') => Script;
  readonly pendingHereDocs: PendingHereDoc[] = [];
  #peeked: Token | undefined;

  constructor(source: Source, parseSub: (lexer: Lexer, end: ')' | 'eof') => Script, pos = 0) {
    this.source = source;
    this.#parseSub = parseSub;
    this.pos = pos;
  }

  get text(): string {
    return this.source.text;
  }

  at(offset: number): { line: number; column: number; offset: number } {
    return this.source.position(offset);
  }

  fail(reason: string, offset: number): never {
    throw new ShellSyntaxError(reason, this.at(offset));
  }

  refuse(construct: string, why: string, offset: number): never {
    throw new ShellUnsupportedError(construct, why, this.at(offset));
  }

  peek(): Token {
    this.#peeked ??= this.#read();
    return this.#peeked;
  }

  next(): Token {
    const t = this.peek();
    this.#peeked = undefined;
    return t;
  }

  /** Skips blanks, line continuations and a comment; stops before a newline. */
  #skipBlanks(): void {
    const s = this.text;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && s[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  #read(): Token {
    this.#skipBlanks();
    const s = this.text;
    const start = this.pos;
    if (start >= s.length) return { kind: 'eof', offset: start };
    const c = s[start]!;
    if (c === '\n') {
      this.pos++;
      if (this.pendingHereDocs.length > 0) this.#readHereDocBodies();
      return { kind: 'op', op: 'newline', offset: start };
    }
    // An fd number right before a redirection operator (`2>`, `0<`, `10>&1`).
    const fd = /[0-9]+(?=[<>])/y;
    fd.lastIndex = start;
    const m = fd.exec(s);
    if (m) {
      this.pos = start + m[0].length;
      const op = this.#operator();
      if (op === '&>' || op === '&>>') this.fail(`'${op}' cannot take an fd number`, start);
      return { kind: 'op', op: op!, fd: Number(m[0]), offset: start };
    }
    const op = this.#operator();
    if (op) return { kind: 'op', op, offset: start };
    return { kind: 'word', word: this.readWord('plain'), offset: start };
  }

  /** Reads an operator at `pos`, or returns undefined (and leaves `pos`). */
  #operator(): Operator | undefined {
    const s = this.text;
    const p = this.pos;
    const three = s.slice(p, p + 3);
    const two = s.slice(p, p + 2);
    const one = s[p]!;
    if (two === '<(' || two === '>(')
      this.refuse(`'${two}…)'`, 'process substitution needs a real shell', p);
    for (const cand of [three, two, one]) {
      if (
        [
          '<<<',
          '<<-',
          '&>>',
          '&&',
          '||',
          '|&',
          ';;',
          '>>',
          '>|',
          '<>',
          '>&',
          '<&',
          '&>',
          '<<',
          ';',
          '&',
          '|',
          '(',
          ')',
          '<',
          '>',
        ].includes(cand) &&
        cand.length > 0
      ) {
        if (cand === ';;') this.refuse("';;'", 'case statements are not part of the language', p);
        this.pos = p + cand.length;
        return cand as Operator;
      }
    }
    return undefined;
  }

  /**
   * Reads one word in `mode`. In 'plain' mode it ends at a metacharacter; in 'brace' mode at the
   * `}` closing `${…}`; 'double' and 'heredoc' modes are handled by their own readers.
   */
  readWord(mode: 'plain' | 'brace'): Word {
    const s = this.text;
    const start = this.pos;
    const parts: WordPart[] = [];
    const lit = (text: string, quoted: boolean) => pushLiteral(parts, text, quoted);
    const isAssignmentPrefix = () =>
      mode === 'plain' &&
      parts.length === 1 &&
      parts[0]!.type === 'literal' &&
      !parts[0]!.quoted &&
      /^[A-Za-z_][A-Za-z0-9_]*\+?=(?:.*:)?$/s.test((parts[0] as LiteralPart).text);
    while (this.pos < s.length) {
      const p = this.pos;
      const c = s[p]!;
      if (mode === 'plain' && META.has(c)) break;
      if (mode === 'brace' && c === '}') break;
      if (c === "'") {
        const end = s.indexOf("'", p + 1);
        if (end < 0) this.fail('unterminated single quote', p);
        this.#pushQuoted(parts, s.slice(p + 1, end), p + 1);
        this.pos = end + 1;
      } else if (c === '"') {
        this.pos++;
        this.#readDouble(parts, 'double');
      } else if (c === '\\') {
        const n = s[p + 1];
        if (n === undefined) {
          lit('\\', true);
          this.pos++;
        } else if (n === '\n') this.pos += 2;
        else {
          lit(n, true);
          this.pos += 2;
        }
      } else if (c === '$') {
        this.#readDollar(parts, false);
      } else if (c === '`') {
        this.#readBackquote(parts, false);
      } else if (c === '~' && (p === start || isAssignmentPrefix()) && mode === 'plain') {
        const m = /~([A-Za-z0-9._-]*)(?=\/|$|[\s;&|<>()]|:)/y;
        m.lastIndex = p;
        const r = m.exec(s);
        if (r) {
          parts.push({ type: 'tilde', user: r[1]! });
          this.pos = p + r[0].length;
        } else {
          lit('~', false);
          this.pos++;
        }
      } else if (this.source.valueAt(p) >= 0) {
        parts.push({ type: 'value', index: this.source.valueAt(p), quoted: false });
        this.pos++;
      } else {
        lit(c, false);
        this.pos++;
      }
    }
    return { type: 'word', parts, ...pos(this.at(start)) };
  }

  /**
   * Appends quoted literal text in which template values may stand (single quotes, `$'…'`, a
   * quoted here-document): each value stays a value (quoted), never its stand-in character.
   */
  #pushQuoted(parts: WordPart[], text: string, _at: number): void {
    let buf = '';
    pushLiteral(parts, '', true);
    for (const ch of text) {
      const v = this.source.valueCount > 0 ? valueIndex(ch, this.source.valueCount) : -1;
      if (v < 0) {
        buf += ch;
        continue;
      }
      pushLiteral(parts, buf, true);
      buf = '';
      parts.push({ type: 'value', index: v, quoted: true });
    }
    pushLiteral(parts, buf, true);
  }

  /** Reads the inside of `"…"` (after the quote) or a here-document body (to the end). */
  #readDouble(parts: WordPart[], mode: 'double' | 'heredoc'): void {
    const s = this.text;
    const open = this.pos - 1;
    let buf = '';
    const flush = () => {
      pushLiteral(parts, buf, true);
      buf = '';
    };
    // An empty "" still makes a (quoted, empty) word.
    pushLiteral(parts, '', true);
    while (this.pos < s.length) {
      const p = this.pos;
      const c = s[p]!;
      if (c === '"' && mode === 'double') {
        this.pos++;
        flush();
        return;
      }
      if (c === '\\') {
        const n = s[p + 1];
        if (n === '\n') this.pos += 2;
        else if (n === '$' || n === '`' || n === '\\' || (n === '"' && mode === 'double')) {
          buf += n;
          this.pos += 2;
        } else {
          buf += '\\';
          this.pos++;
        }
      } else if (c === '$') {
        flush();
        this.#readDollar(parts, true);
      } else if (c === '`') {
        flush();
        this.#readBackquote(parts, true);
      } else if (this.source.valueAt(p) >= 0) {
        flush();
        parts.push({ type: 'value', index: this.source.valueAt(p), quoted: true });
        this.pos++;
      } else {
        buf += c;
        this.pos++;
      }
    }
    if (mode === 'double') this.fail('unterminated double quote', open);
    flush();
  }

  /** Reads what follows a `$`. */
  #readDollar(parts: WordPart[], quoted: boolean): void {
    const s = this.text;
    const p = this.pos;
    const n = s[p + 1];
    const at = this.at(p);
    if (n === "'" && !quoted) {
      this.pos = p + 2;
      this.#pushQuoted(parts, this.#readAnsiC(p), -1);
      return;
    }
    if (n === '"' && !quoted) {
      this.pos = p + 2;
      this.#readDouble(parts, 'double');
      return;
    }
    if (n === '(' && s[p + 2] === '(') {
      // `$((…))`: up to the `))` that closes it, parentheses inside balanced.
      let depth = 0;
      let end = -1;
      for (let j = p + 3; j < s.length; j++) {
        if (s[j] === '(') depth++;
        else if (s[j] === ')') {
          if (depth === 0) {
            if (s[j + 1] === ')') end = j;
            break;
          }
          depth--;
        }
      }
      if (end < 0) this.fail("unterminated '$(('", p);
      const sub = new Lexer(
        new Source(s.slice(p + 3, end), this.source.valueCount),
        this.#parseSub,
      );
      const inner: WordPart[] = [];
      sub.#readDouble(inner, 'heredoc');
      this.pos = end + 2;
      parts.push({
        type: 'arithmetic',
        expression: { type: 'word', parts: inner, ...pos(at) },
        quoted,
      });
      return;
    }
    if (n === '[') this.refuse("'$[…]'", 'arithmetic expansion is not part of the language', p);
    if (n === '(') {
      this.pos = p + 2;
      const body = this.#parseSub(this, ')');
      parts.push({ type: 'command-substitution', body, quoted });
      return;
    }
    if (n === '{') {
      this.pos = p + 2;
      parts.push(this.#readBraceParameter(p, quoted));
      return;
    }
    NAME.lastIndex = p + 1;
    const m = NAME.exec(s);
    if (m) {
      this.pos = p + 1 + m[0].length;
      parts.push({ type: 'parameter', name: m[0], quoted, ...pos(at) });
      return;
    }
    if (n !== undefined && SPECIAL.has(n)) {
      if (n === '!') this.refuse("'$!'", 'there are no background jobs', p);
      if (n === '-') this.refuse("'$-'", 'shell option flags are not exposed', p);
      this.pos = p + 2;
      parts.push({ type: 'parameter', name: n, quoted, ...pos(at) });
      return;
    }
    // A lone `$` is itself.
    pushLiteral(parts, '$', quoted);
    this.pos = p + 1;
  }

  /** Reads `${…}` after its `{`. */
  #readBraceParameter(start: number, quoted: boolean): ParameterPart {
    const s = this.text;
    const at = pos(this.at(start));
    let length = false;
    if (s[this.pos] === '#' && s[this.pos + 1] !== '}') {
      length = true;
      this.pos++;
    }
    let name: string;
    NAME.lastIndex = this.pos;
    const m = NAME.exec(s);
    if (m) name = m[0];
    else if (/[0-9]/.test(s[this.pos] ?? '')) name = /[0-9]+/y.exec(s.slice(this.pos))![0];
    else if (SPECIAL.has(s[this.pos] ?? '') && s[this.pos] !== '!' && s[this.pos] !== '-')
      name = s[this.pos]!;
    else if (s[this.pos] === '!')
      this.refuse("'\u0024{!…}'", 'indirect expansion is not part of the language', start);
    else this.fail('bad substitution', start);
    this.pos += name.length;
    if (length) {
      if (s[this.pos] !== '}') this.fail('bad substitution', start);
      this.pos++;
      return { type: 'parameter', name, op: 'length', quoted, ...at };
    }
    if (s[this.pos] === '}') {
      this.pos++;
      return { type: 'parameter', name, quoted, ...at };
    }
    const opm = /:?[-=?+]|##?|%%?/y;
    opm.lastIndex = this.pos;
    const om = opm.exec(s);
    if (!om) {
      const rest = s.slice(this.pos, this.pos + 2);
      const what = rest.startsWith('/')
        ? 'substitution'
        : /^[\^,]/.test(rest)
          ? 'case conversion'
          : rest.startsWith(':')
            ? 'substrings'
            : undefined;
      if (what)
        this.refuse(
          `'\${${name}${rest[0]}…}'`,
          `${what} in parameter expansion is not part of the language`,
          start,
        );
      this.fail('bad substitution', start);
    }
    this.pos += om[0].length;
    const word = this.readWord('brace');
    if (s[this.pos] !== '}') this.fail("unterminated '${'", start);
    this.pos++;
    return {
      type: 'parameter',
      name,
      op: om[0] as ParameterPart['op'],
      word,
      quoted,
      ...at,
    };
  }

  /** Reads `` `…` ``: unescapes `\$`, `` \` ``, `\\` and parses the result as a script. */
  #readBackquote(parts: WordPart[], quoted: boolean): void {
    const s = this.text;
    const open = this.pos;
    let inner = '';
    let i = open + 1;
    for (; i < s.length && s[i] !== '`'; i++) {
      if (s[i] === '\\' && (s[i + 1] === '$' || s[i + 1] === '`' || s[i + 1] === '\\')) {
        inner += s[i + 1];
        i++;
      } else inner += s[i];
    }
    if (i >= s.length) this.fail('unterminated backquote', open);
    this.pos = i + 1;
    // Values keep their stand-ins, so the inner source shares the template's values.
    const sub = new Lexer(new Source(inner, this.source.valueCount), this.#parseSub);
    const body = this.#parseSub(sub, 'eof');
    parts.push({ type: 'command-substitution', body, quoted });
  }

  /** Reads the body of `$'…'` (after the quote), decoding ANSI-C escapes. */
  #readAnsiC(open: number): string {
    const { text, end } = decodeAnsiC(this.text, this.pos, {
      unterminated: () => this.fail("unterminated $'", open),
      refuse: (construct, why, at) => this.refuse(construct, why, at),
    });
    this.pos = end;
    return text;
  }

  /** Reads the bodies of the pending here-documents, one after another, from `pos`. */
  #readHereDocBodies(): void {
    const s = this.text;
    for (const doc of this.pendingHereDocs.splice(0)) {
      const bodyStart = this.pos;
      let body = '';
      let found = false;
      while (this.pos < s.length || !found) {
        if (this.pos >= s.length) break;
        const nl = s.indexOf('\n', this.pos);
        const end = nl < 0 ? s.length : nl;
        let line = s.slice(this.pos, end);
        this.pos = nl < 0 ? s.length : nl + 1;
        if (doc.stripTabs) line = line.replace(/^\t+/, '');
        if (line === doc.delimiter) {
          found = true;
          break;
        }
        body += `${line}\n`;
      }
      if (!found)
        this.fail(`here-document delimited by '${doc.delimiter}' has no end line`, bodyStart - 1);
      if (doc.quoted) {
        const parts: WordPart[] = [];
        this.#pushQuoted(parts, body, -1);
        doc.body = { type: 'word', parts, ...pos(this.at(bodyStart)) };
      } else {
        const sub = new Lexer(new Source(body, this.source.valueCount), this.#parseSub);
        const parts: WordPart[] = [];
        sub.#readDouble(parts, 'heredoc');
        doc.body = { type: 'word', parts, ...pos(this.at(bodyStart)) };
      }
    }
  }
}

/** The value index a stand-in character means, or -1. */
function valueIndex(ch: string, count: number): number {
  const i = ch.charCodeAt(0) - 0xe000;
  return ch.length === 1 && i >= 0 && i < count ? i : -1;
}

function pos(p: { line: number; column: number }): Position {
  return { line: p.line, column: p.column };
}

/** Appends literal text, merging with a previous literal of the same quoting. */
function pushLiteral(parts: WordPart[], text: string, quoted: boolean): void {
  const last = parts[parts.length - 1];
  if (last?.type === 'literal' && last.quoted === quoted) {
    parts[parts.length - 1] = { type: 'literal', text: last.text + text, quoted };
  } else parts.push({ type: 'literal', text, quoted });
}
