#!/usr/bin/env node
// Counts the names each entry point exports (values and types), to keep the public surface
// small and intentional: `node scripts/count-exports.mjs [ROOT]` (ROOT defaults to this clone).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? '.');
const parts = ['pipe', 'flow', 'supervisor', 'sessions', 'cluster'];
const entries = parts.map((p) => join(root, 'src', p, 'index.ts')).filter((f) => existsSync(f));
const program = ts.createProgram(entries, {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  noEmit: true,
});
const checker = program.getTypeChecker();
for (const file of entries) {
  const source = program.getSourceFile(file);
  const symbol = source && checker.getSymbolAtLocation(source);
  const names = symbol ? checker.getExportsOfModule(symbol).map((s) => s.getName()) : [];
  const deprecated = symbol
    ? checker.getExportsOfModule(symbol).filter((s) => {
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        return [s, target].some((x) =>
          x.getJsDocTags(checker).some((t) => t.name === 'deprecated'),
        );
      }).length
    : 0;
  console.log(`${file.split('/src/')[1]}: ${names.length} exports (${deprecated} deprecated)`);
}
