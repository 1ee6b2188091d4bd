/**
 * How fast the `sluice` command starts, as whole processes: `sluice --version`, `sluice run 'echo
 * hi | cat'` and `sluice ls` against `node -e 0` (the floor every Node program pays), and what
 * each heavy module costs to load on its own. Runs the built command (`npm run build` first, or
 * pass the folder holding `cli/main.js`: `tsx bench/cli-startup.ts /tmp/build/dist`).
 *
 * The commands are run in turn, round after round, so a change of machine load hits them alike;
 * the table shows medians and the ratio of each median to `node -e 0`'s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, section, table } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const main = join(dist, 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`cli-startup: ${main} is missing: run npm run build first\n`);
  process.exit(1);
}
const rounds = Number(process.env.ROUNDS ?? 15);
// `sluice ls` against a socket nobody listens on: start-up plus one failed connect, no daemon.
const scratch = mkdtempSync(join(tmpdir(), 'bench-cli-'));
const env = { ...process.env, SLUICE_SOCKET: join(scratch, 'none.sock') };

function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return ms;
}

const commands: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['sluice --version', [main, '--version']],
  ["sluice run 'echo hi | cat'", [main, 'run', 'echo hi | cat']],
  ['sluice ls (no daemon)', [main, 'ls']],
];

const modules: [string, string][] = [
  ['commander', 'commander'],
  ['@msgpack/msgpack', '@msgpack/msgpack'],
  ['koffi', 'koffi'],
  ['node-pty', 'node-pty'],
  ['hdr-histogram-js', 'hdr-histogram-js'],
  ['picomatch', 'picomatch'],
  ['sluice/pipe', join(dist, 'pipe', 'index.js')],
  ['sluice/sessions', join(dist, 'sessions', 'index.js')],
  ['sluice/flow', join(dist, 'flow', 'index.js')],
  ['cli/run.js', join(dist, 'cli', 'run.js')],
  ['cli/program.js', join(dist, 'cli', 'program.js')],
];

try {
  const times = new Map<string, number[]>(commands.map(([n]) => [n, []]));
  const loads = new Map<string, number[]>(modules.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, args] of commands) times.get(name)!.push(wall(args));
  }
  const moduleRounds = Math.max(5, Math.round(rounds / 2));
  const base: number[] = [];
  for (let r = 0; r < moduleRounds; r++) {
    base.push(wall(['--input-type=module', '-e', '0']));
    for (const [name, spec] of modules) {
      const url = spec.startsWith('/') ? `file://${spec}` : spec;
      loads
        .get(name)!
        .push(wall(['--input-type=module', '-e', `await import(${JSON.stringify(url)})`]));
    }
  }
  const floor = median(times.get('node -e 0')!);
  const rows = commands.map(([name]) => {
    const m = median(times.get(name)!);
    return [name, fmt(m, 'ms'), `${(m / floor).toFixed(2)}×`];
  });
  const baseMs = median(base);
  const moduleRows = modules.map(([name]) => {
    const m = median(loads.get(name)!);
    return [name, fmt(m - baseMs, 'ms')];
  });
  section(
    'CLI start-up',
    'npm run build && npx tsx bench/cli-startup.ts',
    [
      `Whole processes, median of ${rounds} rounds (the commands take turns within a round).`,
      '',
      table(['command', 'wall', 'vs node -e 0'], rows),
      '',
      `What loading one module alone adds to an empty ES module process (median of ${moduleRounds}; the empty process: ${fmt(baseMs, 'ms')}):`,
      '',
      table(['module', 'load cost'], moduleRows),
    ].join('\n'),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
