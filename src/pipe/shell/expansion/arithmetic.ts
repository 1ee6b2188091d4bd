/**
 * Arithmetic expansion, `$((expression))`, with bash's rules: 64-bit signed integers that wrap;
 * decimal, `0x` hex, `0` octal and `base#digits` numbers; variables by name (unset or empty is
 * 0, a value that is itself an expression is evaluated); the operators `++ --` (prefix and
 * postfix), unary `+ - ! ~`, `**`, `* / %`, `+ -`, `<< >>`, comparisons, `== !=`, `& ^ |`,
 * `&& ||` (short-circuit), `?:`, assignments (`= += -= *= /= %= <<= >>= &= ^= |=`) and `,`.
 * A malformed expression or a division by zero is an `ShellExpansionError` (status 1) that stops
 * the script, as it stops bash.
 */
import { ShellExpansionError } from '../errors.js';
import type { ShellState } from '../run/state.js';

type Tok =
  | { k: 'num'; v: bigint }
  | { k: 'name'; v: string }
  | { k: 'op'; v: string }
  | { k: 'end' };

const OPS = [
  '<<=',
  '>>=',
  '**',
  '++',
  '--',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '&&',
  '||',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '^=',
  '|=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '&',
  '^',
  '|',
  '!',
  '~',
  '?',
  ':',
  '=',
  '(',
  ')',
  ',',
];

const int = (v: bigint) => BigInt.asIntN(64, v);

function fail(expr: string, why: string): never {
  throw new ShellExpansionError('ERR_SLUICE_SHELL_ARITHMETIC', `${expr}: ${why}`, 1);
}

function parseNumber(text: string, expr: string): bigint {
  let m = /^0[xX]([0-9a-fA-F]+)$/.exec(text);
  if (m) return int(BigInt(`0x${m[1]}`));
  if (/^0[0-7]+$/.test(text)) return int(BigInt(`0o${text.slice(1)}`));
  if (/^[0-9]+$/.test(text)) return int(BigInt(text));
  m = /^([0-9]+)#([0-9A-Za-z@_]+)$/.exec(text);
  if (m) {
    const base = Number(m[1]);
    if (base < 2 || base > 64) fail(expr, `invalid arithmetic base (error token is "${text}")`);
    const digits = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@_';
    let v = 0n;
    for (const ch of m[2]!) {
      let d = digits.indexOf(base <= 36 ? ch.toLowerCase() : ch);
      if (base <= 36 && d >= 36) d = -1;
      if (d < 0 || d >= base) fail(expr, `value too great for base (error token is "${text}")`);
      v = int(v * BigInt(base) + BigInt(d));
    }
    return v;
  }
  return fail(expr, `value too great for base (error token is "${text}")`);
}

function tokenize(expr: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^[0-9][0-9A-Za-z@_#]*/.exec(expr.slice(i));
    if (num) {
      toks.push({ k: 'num', v: parseNumber(num[0], expr) });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expr.slice(i));
    if (name) {
      toks.push({ k: 'name', v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => expr.startsWith(o, i));
    if (!op)
      fail(expr, `syntax error: invalid arithmetic operator (error token is "${expr.slice(i)}")`);
    toks.push({ k: 'op', v: op });
    i += op.length;
  }
  toks.push({ k: 'end' });
  return toks;
}

/** A value on the evaluation stack: a number, and the variable it came from (for assignments). */
interface Val {
  v: bigint;
  name?: string;
}

const LEVELS: string[][] = [
  ['||'],
  ['&&'],
  ['|'],
  ['^'],
  ['&'],
  ['==', '!='],
  ['<=', '>=', '<', '>'],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '%'],
];

function apply(op: string, a: bigint, b: bigint, expr: string): bigint {
  switch (op) {
    case '+':
      return int(a + b);
    case '-':
      return int(a - b);
    case '*':
      return int(a * b);
    case '/':
    case '%':
      if (b === 0n) fail(expr, 'division by 0');
      return int(op === '/' ? a / b : a % b);
    case '<<':
      return int(a << (b & 63n));
    case '>>':
      return int(a >> (b & 63n));
    case '<':
      return a < b ? 1n : 0n;
    case '>':
      return a > b ? 1n : 0n;
    case '<=':
      return a <= b ? 1n : 0n;
    case '>=':
      return a >= b ? 1n : 0n;
    case '==':
      return a === b ? 1n : 0n;
    case '!=':
      return a !== b ? 1n : 0n;
    case '&':
      return a & b;
    case '^':
      return a ^ b;
    case '|':
      return a | b;
    case '**':
      if (b < 0n) fail(expr, 'exponent less than 0');
      return int(a ** b);
  }
  return fail(expr, `syntax error (error token is "${op}")`);
}

/** Evaluates `expr` against `state` (assignments change it); returns the value as text. */
export function evaluateArithmetic(expr: string, state: ShellState, depth = 0): string {
  if (depth > 32) fail(expr, 'expression recursion level exceeded');
  if (expr.trim() === '') return '0';
  const parser = new ArithmeticParser(expr, tokenize(expr), state, depth);
  const result = parser.comma(true);
  if (parser.peek().k !== 'end') {
    fail(expr, 'syntax error in expression');
  }
  return String(result.v);
}

/**
 * A recursive-descent evaluator over one expression's tokens, one method per precedence level.
 * Each level returns the value; `live` false evaluates without effects (a skipped branch).
 */
class ArithmeticParser {
  #i = 0;

  constructor(
    private readonly expr: string,
    private readonly toks: Tok[],
    private readonly state: ShellState,
    private readonly depth: number,
  ) {}

  peek(): Tok {
    return this.toks[this.#i]!;
  }

  #isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }

  #expect(v: string): void {
    if (!this.#isOp(v)) fail(this.expr, `syntax error: \`${v}' expected`);
    this.#i++;
  }

  #read(name: string): bigint {
    const text = this.state.vars.get(name);
    if (text === undefined || text === '') return 0n;
    return BigInt(evaluateArithmetic(text, this.state, this.depth + 1));
  }

  #assign(name: string | undefined, v: bigint, live: boolean): bigint {
    if (name === undefined) fail(this.expr, 'attempted assignment to non-variable');
    if (live) this.state.vars.set(name, String(v));
    return v;
  }

  comma(live: boolean): Val {
    let v = this.#assignment(live);
    while (this.#isOp(',')) {
      this.#i++;
      v = this.#assignment(live);
    }
    return v;
  }

  #assignment(live: boolean): Val {
    const start = this.#i;
    const t = this.peek();
    if (t.k === 'name') {
      this.#i++;
      const op = this.peek();
      if (op.k === 'op' && /^(<<|>>|[-+*/%&^|])?=$/.test(op.v)) {
        this.#i++;
        const rhs = this.#assignment(live).v;
        const cur = op.v === '=' ? 0n : live ? this.#read(t.v) : 0n;
        const v = op.v === '=' ? rhs : live ? apply(op.v.slice(0, -1), cur, rhs, this.expr) : 0n;
        return { v: this.#assign(t.v, v, live) };
      }
      this.#i = start;
    }
    return this.#conditional(live);
  }

  #conditional(live: boolean): Val {
    const c = this.#binary(0, live);
    if (!this.#isOp('?')) return c;
    this.#i++;
    const yes = c.v !== 0n;
    const a = this.comma(live && yes);
    this.#expect(':');
    const b = this.#conditional(live && !yes);
    return { v: yes ? a.v : b.v };
  }

  #binary(level: number, live: boolean): Val {
    if (level === LEVELS.length) return this.#power(live);
    let left = this.#binary(level + 1, live);
    for (;;) {
      const t = this.peek();
      if (t.k !== 'op' || !LEVELS[level]!.includes(t.v)) return left;
      this.#i++;
      if (t.v === '&&' || t.v === '||') {
        const decided = t.v === '&&' ? left.v === 0n : left.v !== 0n;
        const right = this.#binary(level + 1, live && !decided);
        left = { v: decided ? (t.v === '||' ? 1n : 0n) : right.v !== 0n ? 1n : 0n };
        continue;
      }
      const right = this.#binary(level + 1, live);
      left = { v: live ? apply(t.v, left.v, right.v, this.expr) : 0n };
    }
  }

  #power(live: boolean): Val {
    const base = this.#unary(live);
    if (!this.#isOp('**')) return base;
    this.#i++;
    const exp = this.#power(live);
    return { v: live ? apply('**', base.v, exp.v, this.expr) : 0n };
  }

  #unary(live: boolean): Val {
    const t = this.peek();
    if (t.k === 'op' && (t.v === '++' || t.v === '--')) {
      this.#i++;
      const n = this.peek();
      if (n.k !== 'name') fail(this.expr, 'syntax error: operand expected');
      this.#i++;
      const v = int((live ? this.#read(n.v) : 0n) + (t.v === '++' ? 1n : -1n));
      return { v: this.#assign(n.v, v, live) };
    }
    if (t.k === 'op' && ['+', '-', '!', '~'].includes(t.v)) {
      this.#i++;
      const v = this.#unary(live).v;
      return {
        v: t.v === '+' ? v : t.v === '-' ? int(-v) : t.v === '!' ? (v === 0n ? 1n : 0n) : ~v,
      };
    }
    return this.#postfix(live);
  }

  #postfix(live: boolean): Val {
    const t = this.peek();
    if (t.k === 'num') {
      this.#i++;
      return { v: t.v };
    }
    if (t.k === 'name') {
      this.#i++;
      const v = live ? this.#read(t.v) : 0n;
      const n = this.peek();
      if (n.k === 'op' && (n.v === '++' || n.v === '--')) {
        this.#i++;
        this.#assign(t.v, int(v + (n.v === '++' ? 1n : -1n)), live);
      }
      return { v, name: t.v };
    }
    if (this.#isOp('(')) {
      this.#i++;
      const v = this.comma(live);
      this.#expect(')');
      return { v: v.v };
    }
    const rest = this.toks
      .slice(this.#i)
      .map((x) => (x.k === 'end' ? '' : String(x.v)))
      .join('');
    return fail(this.expr, `syntax error: operand expected (error token is "${rest}")`);
  }
}
