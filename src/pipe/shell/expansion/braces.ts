/**
 * Brace expansion, bash's first expansion: `a{b,c}d` → `abd acd`, `{1..3}` → `1 2 3`,
 * `{a..e..2}`, `{01..10}` (zero-padded), nested braces. Only unquoted literal characters can
 * form braces and commas; quoted text, parameters, substitutions and template values are carried
 * along untouched (so `{$a,$b}` works, and a template value never forms a brace).
 */
import type { Word, WordPart } from '../syntax/ast.js';

/** One unquoted character, or any other part of a word. */
type Atom = string | WordPart;

function atomsOf(word: Word): Atom[] {
  const atoms: Atom[] = [];
  for (const p of word.parts) {
    if (p.type === 'literal' && !p.quoted) for (const ch of p.text) atoms.push(ch);
    else atoms.push(p);
  }
  return atoms;
}

function wordOf(atoms: Atom[], like: Word): Word {
  const parts: WordPart[] = [];
  for (const a of atoms) {
    if (typeof a === 'string') {
      const last = parts[parts.length - 1];
      if (last?.type === 'literal' && !last.quoted) {
        parts[parts.length - 1] = { type: 'literal', text: last.text + a, quoted: false };
      } else parts.push({ type: 'literal', text: a, quoted: false });
    } else parts.push(a);
  }
  return { type: 'word', parts, line: like.line, column: like.column };
}

/** Expands the braces of one word into one or more words (the word itself when it has none). */
export function expandBraces(word: Word): Word[] {
  if (!word.parts.some((p) => p.type === 'literal' && !p.quoted && p.text.includes('{'))) {
    return [word];
  }
  return expandAtoms(atomsOf(word)).map((a) => wordOf(a, word));
}

function expandAtoms(atoms: Atom[]): Atom[][] {
  for (let i = 0; i < atoms.length; i++) {
    if (atoms[i] !== '{') continue;
    const found = matchBrace(atoms, i);
    if (!found) continue;
    const pre = atoms.slice(0, i);
    const post = atoms.slice(found.end + 1);
    const out: Atom[][] = [];
    for (const alt of found.alternatives) {
      for (const tail of expandAtoms([...alt, ...post])) out.push([...pre, ...tail]);
    }
    return out;
  }
  return [atoms];
}

/** The alternatives of the brace group opening at `open`, or undefined if it is not one. */
function matchBrace(
  atoms: Atom[],
  open: number,
): { end: number; alternatives: Atom[][] } | undefined {
  let depth = 0;
  const commas: number[] = [];
  for (let j = open + 1; j < atoms.length; j++) {
    const a = atoms[j];
    if (a === '{') depth++;
    else if (a === '}') {
      if (depth === 0) {
        const inner = atoms.slice(open + 1, j);
        if (commas.length > 0) {
          const alternatives: Atom[][] = [];
          let from = open + 1;
          for (const c of [...commas, j]) {
            alternatives.push(atoms.slice(from, c));
            from = c + 1;
          }
          return { end: j, alternatives };
        }
        const seq = sequence(inner);
        if (seq) return { end: j, alternatives: seq.map((s) => [...s]) };
        // `{x}` is literal; look for a later group that starts inside it.
        return undefined;
      }
      depth--;
    } else if (a === ',' && depth === 0) commas.push(j);
  }
  return undefined;
}

/** `1..5`, `5..1`, `1..10..3`, `a..e`, `01..10`: the items, or undefined. */
function sequence(inner: Atom[]): string[] | undefined {
  if (inner.some((a) => typeof a !== 'string')) return undefined;
  const text = (inner as string[]).join('');
  const num = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(text);
  if (num) {
    const [a, b] = [Number(num[1]), Number(num[2])];
    const step = Math.abs(Number(num[3] ?? 1)) || 1;
    const width =
      /^-?0\d/.test(num[1]!) || /^-?0\d/.test(num[2]!)
        ? Math.max(num[1]!.length, num[2]!.length)
        : 0;
    const out: string[] = [];
    const dir = a <= b ? 1 : -1;
    for (let v = a; dir > 0 ? v <= b : v >= b; v += dir * step) {
      const s = String(Math.abs(v)).padStart(width - (v < 0 ? 1 : 0), '0');
      out.push(v < 0 ? `-${s}` : s);
      if (out.length > 100_000) return undefined;
    }
    return out;
  }
  const chr = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?$/.exec(text);
  if (chr) {
    const [a, b] = [chr[1]!.charCodeAt(0), chr[2]!.charCodeAt(0)];
    const step = Math.abs(Number(chr[3] ?? 1)) || 1;
    const out: string[] = [];
    const dir = a <= b ? 1 : -1;
    for (let v = a; dir > 0 ? v <= b : v >= b; v += dir * step) out.push(String.fromCharCode(v));
    return out;
  }
  return undefined;
}
