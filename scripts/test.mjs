#!/usr/bin/env node
// The one test command (`npm test`): runs every test/**/*.test.ts on node:test through tsx, with
// the Node that runs this script, so CI can run the same suite on another Node version.
// Arguments narrow the run: `npm test -- test/proc` or `npm test -- pipe`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
);
if (files.length === 0) {
  console.error(`no test file matches ${filters.join(' ')}`);
  process.exit(1);
}

const args = [
  '--import',
  'tsx',
  '--import',
  './test/helpers/isolate-tmp.mjs',
  '--import',
  './test/helpers/assert-messages.mjs',
  '--test',
  '--test-reporter=spec',
  // Test files mostly wait on child processes, so two at a time fit two cores; each file has a
  // private TMPDIR (isolate-tmp.mjs), so their leak checks cannot see each other.
  `--test-concurrency=${process.env.SLUICE_TEST_CONCURRENCY ?? 2}`,
  `--test-timeout=${process.env.SLUICE_TEST_TIMEOUT ?? 180000}`,
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  process.exit(code ?? 1);
});
