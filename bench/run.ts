/**
 * `npm run bench`: runs every bench/*.ts (but this file and lib.ts) in its own process, one after
 * the other so they do not compete for the two cores, prints one report with the machine and Node
 * version on top, and writes it to docs/benchmarks.md. `npm run bench -- pipe` runs only the
 * benches whose file name contains "pipe" (and then does not rewrite docs/benchmarks.md).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'lib.ts')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const header = [
  '# Benchmarks',
  '',
  `Made by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${
    cpus()[0]?.model ?? 'unknown CPU'
  }, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}.`,
  'Each section names the command that reproduces it; figures are medians of several runs in one',
  'process run, with ratios to the peers measured in the same run.',
  '',
].join('\n');

process.stdout.write(`${header}\n`);
const sections: string[] = [];
let failed = 0;
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    failed++;
    const note = `## ${file}\n\nFailed (exit ${r.status ?? r.signal}).\n\n`;
    sections.push(note);
    process.stdout.write(note);
    continue;
  }
  sections.push(r.stdout);
  process.stdout.write(r.stdout);
}
if (filters.length === 0) {
  writeFileSync(`${root}/docs/benchmarks.md`, `${header}\n${sections.join('')}`);
  process.stderr.write('bench: wrote docs/benchmarks.md\n');
}
process.exitCode = failed ? 1 : 0;
