#!/usr/bin/env node
// Runs around `npm pack`/`npm publish` (prepack: strip, postpack: restore). The clone needs a
// `prepare` script so that `npm install` builds dist/, but a published package.json that still
// names it makes npm 11 warn every user that sluice has an install script to approve, though
// npm never runs `prepare` for a registry or tarball install. So the packed manifest goes
// without it, and the working copy gets its own file back right after.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const manifest = fileURLToPath(new URL('../package.json', import.meta.url));
const backup = `${manifest}.pack-backup`;

if (process.argv[2] === 'strip') {
  if (existsSync(backup)) renameSync(backup, manifest); // a pack that died half-way
  const text = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  delete pkg.scripts.prepare;
  writeFileSync(backup, text);
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (process.argv[2] === 'restore') {
  if (existsSync(backup)) renameSync(backup, manifest);
} else {
  console.error('usage: pack-manifest.mjs strip|restore');
  process.exit(2);
}
