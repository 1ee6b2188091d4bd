/**
 * How fast the `sluice` command starts, as whole processes: `sluice --version`, `sluice run 'echo
 * hi | cat'` and `sluice ls` against `node -e 0` (the floor every Node program pays), and what
 * each heavy module costs to load on its own. Runs the built command: `dist/` (`npm run build`), a
 * folder given as the argument (`tsx bench/cli-startup.ts /tmp/build/dist`), or, when there is
 * no `dist/`, one compiled into a scratch folder for the run.
 *
 * The commands are run in turn, round after round, so a change of machine load hits them alike;
 * the table shows medians and the ratio of each median to `node -e 0`'s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, section, table } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// `sluice ls` against a socket nobody listens on: start-up plus one failed connect, no daemon.
const scratch = mkdtempSync(join(tmpdir(), 'bench-cli-'));
let dist = resolve(process.argv[2] ?? join(root, 'dist'));
if (!existsSync(join(dist, 'cli', 'main.js')) && process.argv[2] === undefined) {
  // No build: compile one into the scratch folder, beside links to package.json and node_modules.
  process.stderr.write('cli-startup: no dist/, compiling one with tsc\n');
  symlinkSync(join(root, 'package.json'), join(scratch, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
  dist = join(scratch, 'dist');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], {
    stdio: 'ignore',
  });
}
const main = join(dist, 'cli', 'main.js');
if (!existsSync(main)) {
  rmSync(scratch, { recursive: true, force: true });
  process.stderr.write(`cli-startup: ${main} is missing\n`);
  process.exit(1);
}
const rounds = Number(process.env.ROUNDS ?? 15);
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
  // A module's own load time, timed inside a fresh process so process start-up noise stays out.
  const moduleRounds = Math.max(5, Math.round(rounds / 2));
  for (let r = 0; r < moduleRounds; r++) {
    for (const [name, spec] of modules) {
      const url = spec.startsWith('/') ? `file://${spec}` : spec;
      const code = `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t));`;
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
        env,
        encoding: 'utf8',
      });
      loads.get(name)!.push(Number(out.stdout));
    }
  }
  const floor = median(times.get('node -e 0')!);
  const rows = commands.map(([name]) => {
    const m = median(times.get(name)!);
    return [name.replaceAll('|', '\\|'), fmt(m, 'ms'), `${(m / floor).toFixed(2)}×`];
  });
  const moduleRows = modules.map(([name]) => [name, fmt(median(loads.get(name)!), 'ms')]);
  section(
    'CLI start-up',
    'npm run build && npx tsx bench/cli-startup.ts',
    [
      `Whole processes, median of ${rounds} rounds (the commands take turns within a round).`,
      '',
      table(['command', 'wall', 'vs node -e 0'], rows),
      '',
      `What importing one module alone costs, timed inside a fresh process (median of ${moduleRounds}; sluice's own parts include what they import):`,
      '',
      table(['module', 'load cost'], moduleRows),
    ].join('\n'),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
