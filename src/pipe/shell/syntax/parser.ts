/**
 * The parser: shell text (or a template's pieces and values) to a `Script`. It accepts the
 * language described in docs/shell.md and refuses everything else with a `ShellSyntaxError` or a
 * `ShellUnsupportedError` naming the construct, its line and its column. Parsing never runs
 * anything.
 */
import type {
  Assignment,
  CommandNode,
  Group,
  HereDocument,
  LiteralPart,
  PipelineNode,
  Redirection,
  RedirectionOp,
  Script,
  SimpleCommand,
  Statement,
  Word,
} from './ast.js';
import { Lexer } from './lexer.js';
import { REFUSED_BUILTINS } from './refused.js';
import { Source } from './source.js';
import { isRedirection, type PendingHereDoc, type Token } from './tokens.js';

const IF = 'control flow (if) is not part of the language';
const KEYWORDS = new Map<string, string>(
  Object.entries({
    if: 'control flow (if) is not part of the language',
    elif: 'control flow (if) is not part of the language',
    else: 'control flow (if) is not part of the language',
    fi: 'control flow (if) is not part of the language',
    for: 'loops are not part of the language',
    while: 'loops are not part of the language',
    until: 'loops are not part of the language',
    do: 'loops are not part of the language',
    done: 'loops are not part of the language',
    select: 'loops are not part of the language',
    case: 'case statements are not part of the language',
    esac: 'case statements are not part of the language',
    function: 'functions are not part of the language',
    time: 'the time keyword is not part of the language (run the time program: command time …)',
    coproc: 'coprocesses are not part of the language',
    '[[': 'the [[ … ]] test is not part of the language (use test or [ … ])',
    ']]': 'the [[ … ]] test is not part of the language (use test or [ … ])',
  }),
);

/**
 * Parses shell text into a `Script`. Throws `ShellSyntaxError` (malformed text) or
 * `ShellUnsupportedError` (a construct outside the language); runs nothing.
 *
 * @example
 * ```ts
 * const script = parseScript('grep -c x *.txt > count.txt && echo done');
 * console.log(script.statements[0].first.commands[0]);
 * ```
 */
export function parseScript(text: string): Script {
  return parse(new Source(text, 0));
}

/** Parses a template's raw pieces; value `i` appears as a `ValuePart` with `index: i`. */
export function parseTemplate(pieces: readonly string[], valueCount: number): Script {
  return parse(Source.fromTemplate(pieces, valueCount));
}

function parse(source: Source): Script {
  const lexer = new Lexer(source, parseSub);
  return new Parser(lexer).script('eof');
}

function parseSub(lexer: Lexer, end: ')' | 'eof'): Script {
  return new Parser(lexer).script(end);
}

function literalText(word: Word): string | undefined {
  if (word.parts.length !== 1) return undefined;
  const p = word.parts[0]!;
  return p.type === 'literal' && !p.quoted ? p.text : undefined;
}

class Parser {
  readonly #lx: Lexer;
  constructor(lexer: Lexer) {
    this.#lx = lexer;
  }

  #describe(t: Token): string {
    if (t.kind === 'eof') return 'the end of the text';
    if (t.kind === 'word') return `'${literalText(t.word) ?? 'a word'}'`;
    return t.op === 'newline' ? 'a newline' : `'${t.op}'`;
  }

  #unexpected(t: Token): never {
    if (t.kind === 'op' && t.op === '&') {
      this.#lx.refuse("'&'", 'background jobs are not part of the language', t.offset);
    }
    this.#lx.fail(`unexpected ${this.#describe(t)}`, t.offset);
  }

  #skipNewlines(): void {
    for (let t = this.#lx.peek(); t.kind === 'op' && t.op === 'newline'; t = this.#lx.peek())
      this.#lx.next();
  }

  /** Statements up to `end`: the end of the text, `)` (consumed) or a `}` word (consumed). */
  script(end: 'eof' | ')' | '}'): Script {
    const lx = this.#lx;
    const start = lx.at(lx.pos);
    const statements: Statement[] = [];
    for (;;) {
      this.#skipNewlines();
      const t = lx.peek();
      if (end === 'eof' && t.kind === 'eof') break;
      if (end === ')' && t.kind === 'op' && t.op === ')') {
        lx.next();
        break;
      }
      if (end === '}' && t.kind === 'word' && literalText(t.word) === '}') {
        lx.next();
        break;
      }
      if (t.kind === 'eof') {
        lx.fail(end === ')' ? "missing ')'" : "missing '}'", t.offset);
      }
      statements.push(this.#statement());
      const sep = lx.peek();
      if (sep.kind === 'op' && (sep.op === ';' || sep.op === 'newline')) {
        lx.next();
        continue;
      }
      if (sep.kind === 'op' && sep.op === '&') {
        lx.refuse("'&'", 'background jobs are not part of the language', sep.offset);
      }
      if (sep.kind === 'eof' || (sep.kind === 'op' && sep.op === ')')) continue;
      if (sep.kind === 'word' && end === '}' && literalText(sep.word) === '}') continue;
      this.#unexpected(sep);
    }
    if (lx.pendingHereDocs.length > 0) {
      const d = lx.pendingHereDocs[0]!;
      lx.fail(`here-document delimited by '${d.delimiter}' has no body`, lx.pos);
    }
    return { type: 'script', statements, line: start.line, column: start.column };
  }

  #statement(): Statement {
    const lx = this.#lx;
    const at = lx.at(lx.peek().offset);
    const first = this.#pipeline();
    const rest: Statement['rest'][number][] = [];
    for (;;) {
      const t = lx.peek();
      if (t.kind === 'op' && (t.op === '&&' || t.op === '||')) {
        lx.next();
        this.#skipNewlines();
        rest.push({ op: t.op, pipeline: this.#pipeline() });
      } else break;
    }
    return { type: 'statement', first, rest, line: at.line, column: at.column };
  }

  #pipeline(): PipelineNode {
    const lx = this.#lx;
    const t0 = lx.peek();
    const at = lx.at(t0.offset);
    let negated = false;
    if (t0.kind === 'word' && literalText(t0.word) === '!') {
      lx.next();
      negated = true;
    }
    const commands: CommandNode[] = [this.#command()];
    for (;;) {
      const t = lx.peek();
      if (t.kind === 'op' && (t.op === '|' || t.op === '|&')) {
        lx.next();
        if (t.op === '|&') {
          // `a |& b` is `a 2>&1 | b`.
          const last = commands[commands.length - 1]!;
          const dup: Redirection = {
            type: 'redirection',
            op: '>&',
            fd: 2,
            target: {
              type: 'word',
              parts: [{ type: 'literal', text: '1', quoted: true }],
              ...lx.at(t.offset),
            },
            ...lx.at(t.offset),
          };
          commands[commands.length - 1] = { ...last, redirections: [...last.redirections, dup] };
        }
        this.#skipNewlines();
        commands.push(this.#command());
      } else break;
    }
    return { type: 'pipeline', negated, commands, line: at.line, column: at.column };
  }

  #command(): CommandNode {
    const lx = this.#lx;
    const t = lx.peek();
    const at = lx.at(t.offset);
    if (t.kind === 'op' && t.op === '(') {
      lx.next();
      const p = lx.peek();
      if (p.kind === 'op' && p.op === '(' && p.offset === t.offset + 1) {
        lx.refuse("'((…))'", 'arithmetic commands are not part of the language', t.offset);
      }
      const body = this.script(')');
      if (body.statements.length === 0) lx.fail("empty '( )'", t.offset);
      return this.#groupRedirections({
        type: 'group',
        subshell: true,
        body,
        redirections: [],
        line: at.line,
        column: at.column,
      });
    }
    if (t.kind === 'word') {
      const text = literalText(t.word);
      if (text === '{') {
        lx.next();
        const body = this.script('}');
        if (body.statements.length === 0) lx.fail("empty '{ }'", t.offset);
        return this.#groupRedirections({
          type: 'group',
          subshell: false,
          body,
          redirections: [],
          line: at.line,
          column: at.column,
        });
      }
      const keyword =
        text === undefined ? undefined : (KEYWORDS.get(text) ?? (text === 'then' ? IF : undefined));
      if (keyword) lx.refuse(`'${text}'`, keyword, t.offset);
    }
    return this.#simple();
  }

  #groupRedirections(g: Group): Group {
    const redirections: Redirection[] = [];
    for (let t = this.#lx.peek(); t.kind === 'op' && isRedirection(t.op); t = this.#lx.peek()) {
      redirections.push(this.#redirection());
    }
    const t = this.#lx.peek();
    if (t.kind === 'word') this.#unexpected(t);
    return { ...g, redirections };
  }

  #simple(): SimpleCommand {
    const lx = this.#lx;
    const first = lx.peek();
    const at = lx.at(first.offset);
    const assignments: Assignment[] = [];
    const words: Word[] = [];
    const redirections: Redirection[] = [];
    for (;;) {
      const t = lx.peek();
      if (t.kind === 'op' && isRedirection(t.op)) {
        redirections.push(this.#redirection());
        continue;
      }
      if (t.kind !== 'word') break;
      lx.next();
      if (words.length === 0) {
        const a = assignmentOf(t.word);
        if (a) {
          assignments.push(a);
          continue;
        }
        const name = literalText(t.word);
        if (name !== undefined && name in REFUSED_BUILTINS) {
          lx.refuse(`'${name}'`, REFUSED_BUILTINS[name]!, t.offset);
        }
        if (name === '{' || name === '}') {
          // `{`/`}` reach here only in argument-less positions bash also rejects.
          if (name === '}') lx.fail("unexpected '}'", t.offset);
        }
      }
      words.push(t.word);
      const next = lx.peek();
      if (next.kind === 'op' && next.op === '(' && words.length === 1 && assignments.length === 0) {
        lx.refuse(
          `'${literalText(t.word) ?? 'name'}()'`,
          'functions are not part of the language',
          t.offset,
        );
      }
    }
    if (words.length === 0 && assignments.length === 0 && redirections.length === 0) {
      this.#unexpected(lx.peek());
    }
    const t = lx.peek();
    if (t.kind === 'op' && t.op === '(') this.#unexpected(t);
    return { type: 'simple', assignments, words, redirections, line: at.line, column: at.column };
  }

  #redirection(): Redirection {
    const lx = this.#lx;
    const t = lx.next() as Extract<Token, { kind: 'op' }>;
    const op = t.op as RedirectionOp;
    const at = lx.at(t.offset);
    const fd = t.fd ?? (op.startsWith('<') ? 0 : 1);
    if (fd > 2)
      lx.refuse(`'${fd}${op}'`, 'only file descriptors 0, 1 and 2 can be redirected', t.offset);
    const target = lx.next();
    if (target.kind !== 'word') {
      return lx.fail(
        `'${op}' needs a ${op === '<<' || op === '<<-' ? 'delimiter' : 'file name'}`,
        target.offset,
      );
    }
    if (op === '<<' || op === '<<-') {
      const quoted = target.word.parts.some((p) => p.type !== 'literal' || p.quoted);
      if (target.word.parts.some((p) => p.type !== 'literal')) {
        lx.fail('a here-document delimiter must be plain text', target.offset);
      }
      const delimiter = target.word.parts.map((p) => (p as LiteralPart).text).join('');
      const pending: PendingHereDoc = { delimiter, quoted, stripTabs: op === '<<-', at };
      lx.pendingHereDocs.push(pending);
      // The body is read at the next newline; the node reads it from `pending` lazily.
      const doc = {
        type: 'heredoc',
        delimiter,
        quoted,
        line: at.line,
        column: at.column,
        get body(): Word {
          return pending.body ?? { type: 'word', parts: [], line: at.line, column: at.column };
        },
      } as HereDocument;
      return { type: 'redirection', op, fd, target: doc, line: at.line, column: at.column };
    }
    if (op === '>&' || op === '<&') {
      const text = literalText(target.word);
      if (text === '-')
        lx.refuse(`'${op}-'`, 'closing a file descriptor is not part of the language', t.offset);
      if (text !== undefined && /^[0-9]+$/.test(text) && Number(text) > 2) {
        lx.refuse(`'${op}${text}'`, 'only file descriptors 0, 1 and 2 can be duplicated', t.offset);
      }
    }
    return { type: 'redirection', op, fd, target: target.word, line: at.line, column: at.column };
  }
}

/** `NAME=…` or `NAME+=…` written at the start of a word: the assignment, else undefined. */
function assignmentOf(word: Word): Assignment | undefined {
  const p = word.parts[0];
  if (p?.type !== 'literal' || p.quoted) return undefined;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/.exec(p.text);
  if (!m) return undefined;
  const rest = p.text.slice(m[0].length);
  const parts = [...(rest ? [{ ...p, text: rest }] : []), ...word.parts.slice(1)];
  return {
    type: 'assignment',
    name: m[1]!,
    append: m[2] === '+',
    value: { type: 'word', parts, line: word.line, column: word.column + m[0].length },
    line: word.line,
    column: word.column,
  };
}
