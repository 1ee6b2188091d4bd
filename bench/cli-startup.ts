/**
 * How fast the `sluice` command starts, as whole processes: `sluice --version`, `sluice run 'echo
 * hi | cat'` and `sluice ls` against `node -e 0` (the floor every Node program pays) and against
 * a bare Node script that runs `echo hi | cat` through child_process (the floor for `run`), and
 * what each heavy module costs to load on its own. Runs the built command, the package's `bin`
 * (dist/cli/sluice.cjs): from `dist/` (`npm run build`), from a folder given as the argument
 * (`tsx bench/cli-startup.ts /tmp/build/dist`), or, when there is no `dist/`, tsc's unbundled
 * output compiled into a scratch folder for the run (dist/cli/main.js; slower).
 *
 * The commands are run in turn, round after round, so a change of machine load hits them alike;
 * the table shows medians, the ratio of each median to `node -e 0`'s, and the median CPU time
 * (user + system, every thread and child: what the load average cannot inflate much) when Linux
 * `perf` can count it. The load average is printed with the tables.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
const bin = join(dist, 'cli', 'sluice.cjs');
const main = existsSync(bin) ? bin : join(dist, 'cli', 'main.js');
if (!existsSync(main)) {
  rmSync(scratch, { recursive: true, force: true });
  process.stderr.write(`cli-startup: ${main} is missing\n`);
  process.exit(1);
}
const rounds = Number(process.env.ROUNDS ?? 15);
const env = { ...process.env, SLUICE_SOCKET: join(scratch, 'none.sock') };

/** Whether `perf stat` can count a child's CPU time here (Linux, perf installed and allowed). */
const perf = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', 'true'], {
  encoding: 'utf8',
}).stderr?.includes('task-clock');

/** One run of node with `args`: wall milliseconds, and CPU milliseconds when perf counts it. */
function once(args: string[]): { wall: number; cpu: number } {
  const argv = perf
    ? ['perf', 'stat', '-x,', '-e', 'task-clock', process.execPath, ...args]
    : [process.execPath, ...args];
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    env,
    stdio: ['ignore', 'ignore', perf ? 'pipe' : 'ignore'],
    encoding: 'utf8',
  });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  const counted = perf ? Number(r.stderr.trim().split('\n').at(-1)?.split(',')[0]) : Number.NaN;
  return { wall: ms, cpu: counted };
}

/** What `sluice run 'echo hi | cat'` does at the least, in a bare Node script (no kernel pipe). */
const bareRun = `const { spawn } = require('node:child_process');
const a = spawn('echo', ['hi'], { stdio: ['ignore', 'pipe', 'inherit'] });
const b = spawn('cat', [], { stdio: [a.stdout, 'inherit', 'inherit'] });
b.on('exit', (code) => process.exit(code));`;

const commands: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ["node: child_process runs 'echo hi | cat'", ['-e', bareRun]],
  ['sluice --version', [main, '--version']],
  ["sluice run 'echo hi | cat'", [main, 'run', 'echo hi | cat']],
  ['sluice ls (no daemon)', [main, 'ls']],
];

const modules: [string, string][] = [
  ['commander', 'commander'],
  [
    "koffi's binary alone",
    join(root, 'node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node'),
  ],
  ['@msgpack/msgpack', '@msgpack/msgpack'],
  ['koffi', 'koffi'],
  ['node-pty', 'node-pty'],
  ['hdr-histogram-js', 'hdr-histogram-js'],
  ['picomatch', 'picomatch'],
  ['sluice/pipe', join(dist, 'pipe', 'index.js')],
  ['sluice/sessions', join(dist, 'sessions', 'index.js')],
  ['sluice/flow', join(dist, 'flow', 'index.js')],
  [
    'cli/sluice-run.cjs (what sluice run loads; without its code cache)',
    join(dist, 'cli', 'sluice-run.cjs'),
  ],
  [
    'cli/sluice-ls.cjs (what sluice ls loads; without its code cache)',
    join(dist, 'cli', 'sluice-ls.cjs'),
  ],
  ['cli/program.js (every subcommand)', join(dist, 'cli', 'program.js')],
].filter(([, spec]) => !spec!.startsWith('/') || existsSync(spec!)) as [string, string][];

try {
  const times = new Map<string, number[]>(commands.map(([n]) => [n, []]));
  const cpus = new Map<string, number[]>(commands.map(([n]) => [n, []]));
  const loads = new Map<string, number[]>(modules.map(([n]) => [n, []]));
  const loadBefore = loadavg();
  for (let r = 0; r < rounds; r++) {
    for (const [name, args] of commands) {
      const t = once(args);
      times.get(name)!.push(t.wall);
      cpus.get(name)!.push(t.cpu);
    }
  }
  // A module's own load time, timed inside a fresh process so process start-up noise stays out.
  const moduleRounds = Math.max(5, Math.round(rounds / 2));
  for (let r = 0; r < moduleRounds; r++) {
    for (const [name, spec] of modules) {
      // CommonJS files and native addons are required (as the bin loads them), the rest imported.
      const required = /\.(cjs|node)$/.test(spec) || name === 'koffi';
      const load = required
        ? `require(${JSON.stringify(spec)})`
        : `await import(${JSON.stringify(spec.startsWith('/') ? `file://${spec}` : spec)})`;
      const code = `const t = performance.now(); ${load}; process.stdout.write(String(performance.now() - t));`;
      const args = required ? ['-e', code] : ['--input-type=module', '-e', code];
      const out = spawnSync(process.execPath, args, { env, encoding: 'utf8', cwd: root });
      loads.get(name)!.push(Number(out.stdout));
    }
  }
  const loadAfter = loadavg();
  const floor = median(times.get('node -e 0')!);
  const cpuFloor = median(cpus.get('node -e 0')!);
  const rows = commands.map(([name]) => {
    const m = median(times.get(name)!);
    const c = median(cpus.get(name)!);
    const row = [name.replaceAll('|', '\\|'), fmt(m, 'ms'), `${(m / floor).toFixed(2)}×`];
    return perf ? [...row, fmt(c, 'ms'), `${(c / cpuFloor).toFixed(2)}×`] : row;
  });
  const header = ['command', 'wall', 'vs node -e 0'];
  const loads1 = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  const moduleRows = modules.map(([name]) => [name, fmt(median(loads.get(name)!), 'ms')]);
  section(
    'CLI start-up',
    'npm run build && npx tsx bench/cli-startup.ts',
    [
      `Whole processes, median of ${rounds} rounds (the commands take turns within a round); the command is the package's bin, ${main.slice(dist.length + 1)}. Load average (1, 5, 15 min) at the start: ${loads1(loadBefore)}; at the end: ${loads1(loadAfter)}.`,
      '',
      table(perf ? [...header, 'CPU', 'CPU vs node -e 0'] : header, rows),
      '',
      `What importing one module alone costs, timed inside a fresh process (median of ${moduleRounds}; sluice's own parts include what they import):`,
      '',
      table(['module', 'load cost'], moduleRows),
    ].join('\n'),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
