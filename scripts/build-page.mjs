#!/usr/bin/env node
// Bundles the dashboard page (src/dashboard-page/) with esbuild into dist/dashboard-page/app.js
// and app.css: one script, one stylesheet, xterm.js and uPlot included, nothing fetched from a
// CDN, so an installed package serves its dashboard offline. `npm run build` runs it after tsc.
// The page is type-checked against the DOM with its own tsconfig (the Node build excludes it).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/dashboard-page/`;
const out = `${root}dist/dashboard-page/`;

execFileSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, '-p', `${src}tsconfig.json`],
  {
    stdio: 'inherit',
  },
);
mkdirSync(out, { recursive: true });
const result = await esbuild.build({
  entryPoints: [`${src}main.ts`],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  outdir: out,
  entryNames: 'app',
  tsconfig: `${src}tsconfig.json`,
  metafile: true,
  logLevel: 'warning',
});
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  process.stdout.write(`${file.replace(root, '')}: ${(info.bytes / 1024).toFixed(0)} KiB\n`);
}
