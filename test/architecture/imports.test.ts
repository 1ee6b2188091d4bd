/**
 * The house rules of the source tree, checked on every run:
 * - no import cycles between files, type-only imports included;
 * - arrows between parts only point down (cli → sessions → supervisor → proc, pipe → proc,
 *   flow → proc, cluster → flow, supervisor; sessions may read flow's types);
 * - a part is entered through its index.ts only: no file imports another part's inner files;
 * - no folder holds more than 15 source files.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

/** Which parts each part may import (besides itself). */
const allowed: Record<string, readonly string[]> = {
  proc: [],
  pipe: ['proc'],
  flow: ['proc'],
  supervisor: ['proc'],
  sessions: ['supervisor', 'proc', 'flow'],
  cluster: ['flow', 'supervisor', 'proc'],
  cli: ['pipe', 'flow', 'supervisor', 'sessions', 'cluster', 'proc'],
  'dashboard-page': [],
  '.': ['pipe', 'flow', 'supervisor', 'sessions', 'cluster', 'proc'],
};

/** Parts that `sessions` may only read types from. */
const typeOnly: Record<string, readonly string[]> = { sessions: ['flow'] };

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** The relative imports and re-exports of one file, resolved to files. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const re =
    /^\s*(import|export)\s+(type\s+)?(?:[\s\S]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    let target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    if (!target.endsWith('.ts')) target += '.ts';
    edges.push({ from: file, to: target, typeOnly: Boolean(m[2]) });
  }
  return edges;
}

const partOf = (file: string) => {
  const rel = relative(src, file);
  return rel.includes('/') ? (rel.split('/')[0] ?? '.') : '.';
};

const files = sourceFiles(src);
const edges = files.flatMap(importsOf);

describe('architecture: the import graph', () => {
  test('there is no import cycle, type-only imports included', () => {
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        const cycle = path.slice(path.indexOf(f));
        cycles.push([...cycle, f].map((p) => relative(src, p)).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of next.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  test('arrows between parts point only down', () => {
    const wrong: string[] = [];
    for (const e of edges) {
      const a = partOf(e.from);
      const b = partOf(e.to);
      if (a === b) continue;
      const ok = (allowed[a] ?? []).includes(b);
      const typesOk = (typeOnly[a] ?? []).includes(b) ? e.typeOnly : true;
      if (!ok || !typesOk) {
        wrong.push(
          `${relative(src, e.from)} → ${relative(src, e.to)}${e.typeOnly ? ' (type)' : ''}`,
        );
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('a part is entered through its index.ts only', () => {
    const inner: string[] = [];
    for (const e of edges) {
      const a = partOf(e.from);
      const b = partOf(e.to);
      if (a === b || b === '.') continue;
      if (relative(join(src, b), e.to) !== 'index.ts') {
        inner.push(`${relative(src, e.from)} → ${relative(src, e.to)}`);
      }
    }
    assert.deepEqual(inner, []);
  });

  test('no folder holds more than 15 source files', () => {
    const counts = new Map<string, number>();
    for (const f of files) counts.set(dirname(f), (counts.get(dirname(f)) ?? 0) + 1);
    const big = [...counts].filter(([, n]) => n > 15).map(([d, n]) => `${relative(root, d)}: ${n}`);
    assert.deepEqual(big, []);
  });
});
