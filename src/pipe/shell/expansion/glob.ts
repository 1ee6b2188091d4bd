/**
 * Pathname expansion with bash's results (`shopt -s globstar failglob`, `LC_COLLATE=C`): `*`,
 * `?` and `[…]` (with `[!…]`, `[^…]`, ranges and `[[:class:]]`) match within one path segment
 * through picomatch; a segment that is exactly `**` matches zero or more directories; names
 * starting with `.` are matched only by a segment that starts with a literal `.`; symlinked
 * directories are not descended into by `**`; the matches are sorted by code point, as bash sorts
 * them in the C locale. Quoted characters never match as glob characters.
 */
import { type Dirent, lstatSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type picomatchType from 'picomatch';

/** A character of a pattern and whether it was quoted (quoted characters are literal). */
export interface PatternChar {
  readonly ch: string;
  readonly quoted: boolean;
}

/** picomatch, loaded at the first glob (scripts without globs do not pay for it). */
let pm: typeof picomatchType | undefined;
function picomatch(): typeof picomatchType {
  pm ??= createRequire(import.meta.url)('picomatch') as typeof picomatchType;
  return pm;
}

const PM_OPTIONS = { dot: false, noextglob: true, nobrace: true, nonegate: true } as const;
/** Characters picomatch would read as syntax, escaped wherever they are literal. */
const PM_SPECIAL = /[\\()|+@!{}$^.,*?[\]]/;

/** Whether the pattern has an unquoted `*`, `?`, or a `[` closed by a later `]`. */
export function hasGlob(chars: readonly PatternChar[]): boolean {
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c.quoted) continue;
    if (c.ch === '*' || c.ch === '?') return true;
    if (c.ch === '[' && bracketEnd(chars, i) > 0) return true;
  }
  return false;
}

/** Index of the `]` closing a bracket expression opened at `open`, or -1. */
export function bracketEnd(chars: readonly PatternChar[], open: number): number {
  let j = open + 1;
  if (chars[j] && !chars[j]!.quoted && (chars[j]!.ch === '!' || chars[j]!.ch === '^')) j++;
  if (chars[j]?.ch === ']') j++;
  for (; j < chars.length; j++) {
    const c = chars[j]!;
    if (c.ch === '/') return -1;
    if (c.ch === '[' && !c.quoted && chars[j + 1]?.ch === ':') {
      const close = chars.findIndex(
        (x, k) => k > j + 1 && x.ch === ']' && chars[k - 1]?.ch === ':',
      );
      if (close > 0) {
        j = close;
        continue;
      }
    }
    if (c.ch === ']' && !c.quoted) return j;
  }
  return -1;
}

/** One path segment as a picomatch pattern (literal characters escaped). */
function segmentPattern(chars: readonly PatternChar[]): string {
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (!c.quoted && c.ch === '[') {
      const end = bracketEnd(chars, i);
      if (end > 0) {
        let inner = chars
          .slice(i + 1, end)
          .map((x) => x.ch)
          .join('');
        if (inner.startsWith('!')) inner = `^${inner.slice(1)}`;
        out += `[${inner.replace(/\\/g, '\\\\')}]`;
        i = end;
        continue;
      }
    }
    if (!c.quoted && (c.ch === '*' || c.ch === '?')) out += c.ch;
    else out += PM_SPECIAL.test(c.ch) ? `\\${c.ch}` : c.ch;
  }
  return out;
}

/** Splits a pattern at `/`. */
function segments(chars: readonly PatternChar[]): PatternChar[][] {
  const segs: PatternChar[][] = [[]];
  for (const c of chars) {
    if (c.ch === '/') segs.push([]);
    else segs[segs.length - 1]!.push(c);
  }
  return segs;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function list(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * The paths matching `chars` relative to `cwd`, written as the pattern writes them (`./x`,
 * `../y`, `/abs`), sorted; empty when nothing matches.
 */
export function glob(chars: readonly PatternChar[], cwd: string): string[] {
  const segs = segments(chars);
  const absolute = segs[0]!.length === 0 && segs.length > 1;
  const start = absolute ? '/' : '';
  const out: string[] = [];
  walk(absolute ? segs.slice(1) : segs, 0, start, cwd, out);
  return [...new Set(out)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Matches `segs[k…]` under the written prefix `prefix` (real directory: resolve(cwd, prefix)). */
function walk(segs: PatternChar[][], k: number, prefix: string, cwd: string, out: string[]): void {
  const real = resolve(cwd, prefix || '.');
  if (k === segs.length) {
    out.push(prefix);
    return;
  }
  const seg = segs[k]!;
  const last = k === segs.length - 1;
  const join = (name: string) =>
    prefix === '' ? name : prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`;
  if (seg.length === 0) {
    // A trailing `/` (only directories) or a doubled one.
    if (isDir(real)) walk(segs, k + 1, last ? `${prefix}/` : `${prefix}/`, cwd, out);
    return;
  }
  const text = seg.map((c) => c.ch).join('');
  if (text === '**' && seg.every((c) => !c.quoted)) {
    // Zero or more directories below `prefix` (hidden ones and symlinks not descended into).
    const dirs: string[] = [prefix];
    const linkedDirs: string[] = [];
    const stack = [prefix];
    const entries: string[] = [];
    while (stack.length > 0) {
      const d = stack.pop()!;
      for (const e of list(resolve(cwd, d || '.'))) {
        if (e.name.startsWith('.')) continue;
        const p = d === '' ? e.name : d.endsWith('/') ? d + e.name : `${d}/${e.name}`;
        entries.push(p);
        if (e.isDirectory()) {
          dirs.push(p);
          stack.push(p);
        } else if (e.isSymbolicLink() && isDir(resolve(cwd, p))) linkedDirs.push(p);
      }
    }
    if (k === segs.length - 2 && segs[k + 1]!.length === 0) {
      // `**/`: every directory below, symlinked ones included (not descended into), as bash.
      for (const d of [...dirs, ...linkedDirs])
        if (d !== '') out.push(d.endsWith('/') ? d : `${d}/`);
      return;
    }
    if (last) {
      // Zero directories below a prefix is the prefix itself, written with its slash (bash).
      if (prefix !== '') out.push(prefix.endsWith('/') ? prefix : `${prefix}/`);
      out.push(...entries);
      return;
    }
    for (const d of dirs) walk(segs, k + 1, d, cwd, out);
    return;
  }
  if (!hasGlob(seg)) {
    const p = join(text);
    if (last) {
      try {
        lstatSync(resolve(cwd, p));
        out.push(p);
      } catch {}
    } else if (isDir(resolve(cwd, p))) walk(segs, k + 1, p, cwd, out);
    return;
  }
  const re = picomatch().makeRe(segmentPattern(seg), PM_OPTIONS);
  const explicitDot = seg[0]?.ch === '.';
  for (const e of list(real)) {
    if (e.name.startsWith('.') && !explicitDot) continue;
    if (!re.test(e.name)) continue;
    const p = join(e.name);
    if (last) out.push(p);
    else if (isDir(resolve(cwd, p))) walk(segs, k + 1, p, cwd, out);
  }
}

const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
};

/**
 * A pattern as a whole-string regular expression where `*` and `?` also match `/` (as in
 * `${NAME%pattern}`): quoted characters literal, `[…]` a class.
 */
export function patternRegex(chars: readonly PatternChar[]): RegExp {
  let out = '';
  const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (!c.quoted && c.ch === '*') out += '[\\s\\S]*';
    else if (!c.quoted && c.ch === '?') out += '[\\s\\S]';
    else if (!c.quoted && c.ch === '[' && bracketEnd(chars, i) > 0) {
      const end = bracketEnd(chars, i);
      let inner = chars
        .slice(i + 1, end)
        .map((x) => x.ch)
        .join('');
      let negate = '';
      if (inner.startsWith('!') || inner.startsWith('^')) {
        negate = '^';
        inner = inner.slice(1);
      }
      inner = inner
        .replace(/\[:([a-z]+):\]/g, (_m, name: string) => CLASSES[name] ?? '')
        .replace(/[\\\]]/g, (m) => `\\${m}`);
      out += `[${negate}${inner}]`;
      i = end;
    } else out += esc(c.ch);
  }
  return new RegExp(`^${out}$`, 's');
}
