/**
 * The body of an ANSI-C string, `$'…'`: bash's escapes (`\n`, `\t`, `\e`, `\\`, `\'`, octal
 * `\NNN`, hex `\xHH`, `\uHHHH`, `\UHHHHHHHH`). An octal or hex escape above 0x7f (a raw byte,
 * which bash passes as is and a JavaScript string cannot hold) and `\cX` are refused.
 */

const SIMPLE: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** How decoding reports a problem (each throws). */
export interface AnsiCErrors {
  unterminated(): never;
  refuse(construct: string, why: string, at: number): never;
}

/** Decodes from `pos` (just after the opening quote) to the closing quote; `end` is after it. */
export function decodeAnsiC(
  s: string,
  pos: number,
  errors: AnsiCErrors,
): { text: string; end: number } {
  let out = '';
  let i = pos;
  const byte = (code: number, at: number) => {
    if (code > 0x7f) {
      errors.refuse(
        "a byte above 0x7f in $'…'",
        'raw bytes cannot be passed as text (use \\u)',
        at,
      );
    }
    return String.fromCharCode(code);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === "'") return { text: out, end: i + 1 };
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const at = i;
    const n = s[i + 1] ?? '';
    i += 2;
    if (n in SIMPLE) out += SIMPLE[n];
    else if (/[0-7]/.test(n)) {
      const m = /[0-7]{0,2}/y;
      m.lastIndex = i;
      const d = m.exec(s)![0];
      i += d.length;
      out += byte(Number.parseInt(n + d, 8) & 0xff, at);
    } else if (n === 'x' || n === 'u' || n === 'U') {
      const max = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      const m = new RegExp(`[0-9A-Fa-f]{1,${max}}`, 'y');
      m.lastIndex = i;
      const h = m.exec(s);
      if (!h) out += `\\${n}`;
      else {
        i += h[0].length;
        const code = Number.parseInt(h[0], 16);
        out += n === 'x' ? byte(code, at) : String.fromCodePoint(code);
      }
    } else if (n === 'c') {
      errors.refuse("'\\c' in $'…'", 'control-character escapes are not part of the language', at);
    } else out += `\\${n}`;
  }
  return errors.unterminated();
}
