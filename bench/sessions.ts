/**
 * The sessions daemon, run as its own process (`sluice daemon`) from plain JavaScript (the
 * sources transpiled by esbuild into node_modules/.cache/sluice-bench, as `npm run build` would
 * ship them: no tsx in the daemon), measured through the client:
 *
 * 1. Throughput: one attached client receives a chatty child's output (`head -c N /dev/zero`),
 *    from the go to the exit, in MB/s; `lossless` (the daemon holds the child while the client's
 *    queue is full: every byte arrives) and the default (the daemon reads the child at full speed
 *    and skips, counted, what the client cannot take). Peer: the same child read by this process
 *    straight from a `child_process.spawn` pipe (no daemon, no socket), in the same run, between
 *    the two: the ratio of each run is taken against its own peer, then the median.
 * 2. Attach latency with a full 1 MiB backlog: from `attach()` (a new connection, hello, attach)
 *    until the whole backlog has arrived. Peer: `snapshot()` over an open connection.
 * 3. Memory: a fresh daemon's idle RSS against `node -e` idling in the same run, what it holds
 *    (modules loaded, V8 heap), what each heavy module costs to load; then 100 sessions printing
 *    continuously (`yes`) for 10 s: the daemon's peak RSS, and that peak less the rings.
 *
 * Targets: lossless ≥ 0.6× the pipe; idle RSS ≤ 60 MB; 100 chatty sessions ≤ 100 MB + rings.
 * `npx tsx bench/sessions.ts` (or `npm run bench -- sessions`). Env: SLUICE_BENCH_MB (256 MiB a
 * transfer), SLUICE_BENCH_RUNS (5), SLUICE_BENCH_CHATTY_S (10), SLUICE_BENCH_ONLY (a comma list
 * of `throughput`, `attach`, `memory`: run only those parts; default all).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionsClient } from '../src/sessions/index.js';
import { fmt, median, section, table } from './lib.js';

const MB = Number(process.env.SLUICE_BENCH_MB ?? 256);
const BYTES = MB * 1024 * 1024;
const RUNS = Number(process.env.SLUICE_BENCH_RUNS ?? 5);
const CHATTY_S = Number(process.env.SLUICE_BENCH_CHATTY_S ?? 10);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Two levels under the root, as dist/ is: the CLI finds ../../package.json (copied there). */
const BUILD = join(ROOT, 'node_modules/.cache/sluice-bench');
const CLI = join(BUILD, 'dist/cli/main.js');

/** Transpiles src/ file by file (no bundling: the same module graph as `tsc`'s dist/). */
function build(): void {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'dashboard-page') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(relative(ROOT, p));
    }
  };
  walk(join(ROOT, 'src'));
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  execFileSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    [
      ...files,
      `--outdir=${join(BUILD, 'dist')}`,
      '--outbase=src',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      '--log-level=error',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  copyFileSync(join(ROOT, 'package.json'), join(BUILD, 'package.json'));
}

interface Daemon {
  child: ChildProcess;
  socket: string;
  dir: string;
}

async function startDaemon(): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const socket = join(dir, 'd.sock');
  const child = spawn(process.execPath, [CLI, 'daemon', '-q', '--socket', socket], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 400; i++) {
    try {
      const c = await SessionsClient.connect({ socketPath: socket });
      await c.close();
      return { child, socket, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error('the daemon did not start');
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.child.exitCode === null && d.child.signalCode === null) {
    const exited = new Promise((r) => d.child.once('exit', r));
    d.child.kill('SIGTERM');
    await exited;
  }
  rmSync(d.dir, { recursive: true, force: true });
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
const rssMiB = (pid: number) => statusKb(pid, 'VmRSS') / 1024;

/** CPU time (user + system) process `pid` has used, in ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Transfer {
  rate: number;
  missed: number;
  /** MB delivered per second of the daemon's CPU. */
  perCpu: number;
  /** CPU ms of the daemon and this process together per delivered MB. */
  cpuMsPerMB: number;
}

/** One attached client, from the go to the session's exit. */
async function viaDaemon(
  client: SessionsClient,
  pid: number,
  lossless: boolean,
): Promise<Transfer> {
  // The child waits for a line on stdin, so the attach is in place before the first byte.
  const s = await client.spawn({ argv: ['sh', '-c', `read go; exec head -c ${BYTES} /dev/zero`] });
  const a = await client.attach(s.id, { lossless });
  const t0 = performance.now();
  const c0 = cpuMsOf(pid);
  const own0 = process.cpuUsage();
  void a.write('go\n');
  let got = a.backlog.length;
  let missed = 0;
  for await (const ev of a) {
    if (ev.type === 'output') got += ev.data.length;
    else if (ev.type === 'missed') missed += ev.bytes;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuS = Math.max(cpuMsOf(pid) - c0, 10) / 1000;
  const own = process.cpuUsage(own0);
  const ownS = (own.user + own.system) / 1e6;
  await client.remove(s.id);
  if (got + missed !== BYTES) throw new Error(`got ${got} + missed ${missed} of ${BYTES} bytes`);
  if (lossless && missed > 0) throw new Error(`a lossless attach missed ${missed} bytes`);
  return {
    rate: got / 1e6 / seconds,
    missed,
    perCpu: got / 1e6 / cpuS,
    cpuMsPerMB: ((cpuS + ownS) * 1000) / (got / 1e6),
  };
}

/** The same child read straight from a pipe by this process: MB/s and CPU ms per MB. */
async function direct(): Promise<[number, number]> {
  const t0 = performance.now();
  const own0 = process.cpuUsage();
  const c = spawn('head', ['-c', String(BYTES), '/dev/zero'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let got = 0;
  for await (const chunk of c.stdout) got += (chunk as Buffer).length;
  await new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(null)));
  if (got !== BYTES) throw new Error(`the pipe gave ${got} of ${BYTES} bytes`);
  const own = process.cpuUsage(own0);
  return [
    got / 1e6 / ((performance.now() - t0) / 1000),
    (own.user + own.system) / 1000 / (got / 1e6),
  ];
}

async function throughput(d: Daemon): Promise<string> {
  const client = await SessionsClient.connect({ socketPath: d.socket });
  const pid = d.child.pid!;
  const pipeCpu: number[] = [];
  const rows = { pipe: [] as number[], lossless: [] as Transfer[], lossy: [] as Transfer[] };
  const ratio = { lossless: [] as number[], lossy: [] as number[] };
  const loads: string[] = [loadavg()];
  await viaDaemon(client, pid, true); // warm up
  for (let i = 0; i < RUNS; i++) {
    const lossless = await viaDaemon(client, pid, true);
    const [pipe, cpu] = await direct();
    pipeCpu.push(cpu);
    const lossy = await viaDaemon(client, pid, false);
    rows.pipe.push(pipe);
    rows.lossless.push(lossless);
    rows.lossy.push(lossy);
    ratio.lossless.push(lossless.rate / pipe);
    ratio.lossy.push(lossy.rate / pipe);
  }
  loads.push(loadavg());
  await client.close();
  const rate = (xs: Transfer[]) => median(xs.map((x) => x.rate));
  const perCpu = (xs: Transfer[]) => median(xs.map((x) => x.perCpu));
  const cpuMs = (xs: Transfer[]) => median(xs.map((x) => x.cpuMsPerMB));
  const missed = rows.lossy.reduce((n, x) => n + x.missed, 0);
  return `${table(
    [
      `path (${MB} MiB a run, median of ${RUNS})`,
      'MB/s',
      'vs the pipe (median of per-run ratios)',
      'MB per daemon CPU-second',
      'CPU ms per MB (daemon + client)',
      'missed',
    ],
    [
      [
        'child → daemon → socket → client, `lossless: true`',
        fmt(rate(rows.lossless)),
        `${fmt(median(ratio.lossless))}×`,
        fmt(perCpu(rows.lossless)),
        fmt(cpuMs(rows.lossless)),
        '0',
      ],
      [
        'the same, default (skips what the client cannot take)',
        fmt(rate(rows.lossy)),
        `${fmt(median(ratio.lossy))}×`,
        fmt(perCpu(rows.lossy)),
        fmt(cpuMs(rows.lossy)),
        `${fmt(missed / RUNS / 2 ** 20)} MiB a run`,
      ],
      [
        'child → `child_process.spawn` pipe in this process',
        fmt(median(rows.pipe)),
        '1×',
        '',
        fmt(median(pipeCpu)),
        '',
      ],
    ],
  )}\n\nPer-run ratios, lossless: ${ratio.lossless.map((r) => fmt(r)).join(', ')}; default: ${ratio.lossy
    .map((r) => fmt(r))
    .join(
      ', ',
    )}.\nThe default path counts as MB/s only the bytes delivered; what it skipped is in \`missed\` events.\nLoad average before and after: ${loads.join(' → ')} (2 cores).`;
}

async function attachLatency(d: Daemon): Promise<string> {
  const client = await SessionsClient.connect({ socketPath: d.socket });
  const s = await client.spawn({
    argv: ['sh', '-c', 'head -c 1048576 /dev/urandom; exec sleep 600'],
  });
  for (;;) {
    const info = await client.get(s.id);
    if (info.attachments.stdout!.bytes >= 1048576) break;
    await sleep(10);
  }
  const attachMs: number[] = [];
  const logsMs: number[] = [];
  for (let i = -3; i < 30; i++) {
    let t0 = performance.now();
    const a = await client.attach(s.id, { readOnly: true });
    const t = performance.now() - t0;
    if (a.backlog.length !== 1048576) throw new Error(`backlog of ${a.backlog.length} bytes`);
    await a.detach();
    t0 = performance.now();
    const l = await client.snapshot(s.id);
    const tl = performance.now() - t0;
    if (l.data.length !== 1048576) throw new Error('short snapshot');
    if (i >= 0) {
      attachMs.push(t);
      logsMs.push(tl);
    }
  }
  await client.stop(s.id, { graceMs: 0, wait: true });
  await client.close();
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
  return table(
    ['operation (1 MiB backlog)', 'median ms', 'p95 ms'],
    [
      [
        '`attach()`: connect, hello, attach, whole backlog received',
        fmt(median(attachMs)),
        fmt(p95(attachMs)),
      ],
      ['`snapshot()` over an open connection', fmt(median(logsMs)), fmt(p95(logsMs))],
    ],
  );
}

/** A bare `node` idling, in MiB of RSS: the floor any Node daemon starts from. */
async function nodeFloor(): Promise<number> {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await sleep(1000);
  const rss = rssMiB(c.pid!);
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
  return rss;
}

/**
 * What loading a module costs a fresh Node (RSS and wall time), each in its own process, and
 * what an in-process daemon holds once started: V8 heap, external memory, and which of the heavy
 * modules it has loaded (they are CommonJS, so the CommonJS cache tells).
 */
function idleAnatomy(): { heavy: [string, number, number][]; inside: Record<string, unknown> } {
  const heavy: [string, number, number][] = [];
  const mods = [
    'commander',
    '@msgpack/msgpack',
    '@xterm/headless',
    '@xterm/addon-serialize',
    'node-pty',
    'koffi',
    'hdr-histogram-js',
  ];
  const probe = (what: string) =>
    `import { readFileSync } from 'node:fs';
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const a = rss(); const t = performance.now();
await import(${JSON.stringify(what)});
const ms = performance.now() - t;
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify([rss() - a, ms]));`;
  for (const m of [
    ...mods,
    join(BUILD, 'dist/sessions/index.js'),
    CLI.replace('main.js', 'program.js'),
  ]) {
    try {
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe(m)], {
        cwd: BUILD,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const [mib, ms] = JSON.parse(out) as [number, number];
      heavy.push([m.startsWith('/') ? relative(BUILD, m) : m, mib, ms]);
    } catch {
      // Not installed here (an optional dependency): left out of the table.
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-idle-'));
  const inside = `import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
const { SessionDaemon } = await import(${JSON.stringify(join(BUILD, 'dist/sessions/index.js'))});
const d = await SessionDaemon.start({ socketPath: ${JSON.stringify(join(dir, 's'))}, log: null });
await new Promise((r) => setTimeout(r, 500));
globalThis.gc();
const m = process.memoryUsage();
const cache = Object.keys(createRequire(import.meta.url).cache);
const loaded = ${JSON.stringify(mods)}.filter((n) => cache.some((p) => p.includes('/node_modules/' + n + '/')));
const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
const rss = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(JSON.stringify({ rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, loaded, cjsModules: cache.length, spaces }));
await d.shutdown();`;
  try {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', inside],
      { cwd: BUILD, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return { heavy, inside: JSON.parse(out) as Record<string, unknown> };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function memory(): Promise<string> {
  const floor = await nodeFloor();
  const d = await startDaemon();
  let idle: number;
  let peak = 0;
  let kept = 0;
  let written = 0;
  try {
    const pid = d.child.pid!;
    await sleep(1000);
    idle = rssMiB(pid);
    const client = await SessionsClient.connect({ socketPath: d.socket });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++)
      ids.push((await client.spawn({ argv: ['yes', `session ${i}`] })).id);
    const t0 = performance.now();
    while (performance.now() - t0 < CHATTY_S * 1000) {
      peak = Math.max(peak, rssMiB(pid));
      await sleep(100);
    }
    for (const s of await client.list()) {
      written += s.attachments.stdout!.bytes;
      kept += Math.min(s.attachments.stdout!.bytes, 1024 * 1024);
    }
    for (const id of ids) await client.stop(id, { graceMs: 0 });
    await client.close();
    peak = Math.max(peak, statusKb(pid, 'VmHWM') / 1024);
  } finally {
    await stopDaemon(d);
  }
  const anatomy = idleAnatomy();
  const i = anatomy.inside as {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    arrayBuffers: number;
    loaded: string[];
    cjsModules: number;
    spaces: Record<string, number>;
  };
  const mib = (n: number) => `${fmt(n / 2 ** 20)} MiB`;
  const rings = kept / 2 ** 20;
  return `${table(
    ['daemon memory', 'value'],
    [
      ['`node -e` idling (the floor of any Node process here)', `${fmt(floor)} MiB`],
      ['`sluice daemon` idle, fresh', `${fmt(idle)} MiB`],
      [`100 sessions running \`yes\` for ${CHATTY_S} s: peak RSS`, `${fmt(peak)} MiB`],
      ['… of which their rings (100 × 1 MiB, full)', `${fmt(rings)} MiB`],
      ['… peak less the rings', `${fmt(peak - rings)} MiB`],
      ['output the daemon read meanwhile', `${fmt(written / 2 ** 20)} MiB`],
    ],
  )}\n\nWhat a daemon started in-process holds when idle (after a full GC): RSS ${mib(i.rss)}, V8 heap ${mib(
    i.heapUsed,
  )} used of ${mib(i.heapTotal)} (code ${mib(i.spaces.code_space ?? 0)}, old ${mib(
    i.spaces.old_space ?? 0,
  )}), external ${mib(i.external)}; ${i.cjsModules} CommonJS modules loaded, of the heavy ones: ${
    i.loaded.length ? i.loaded.join(', ') : 'none'
  }.\n\n${table(
    ['module, imported alone into a fresh `node`', 'RSS added', 'load time'],
    anatomy.heavy.map(([m, rss, ms]) => [`\`${m}\``, `${fmt(rss)} MiB`, `${fmt(ms)} ms`]),
  )}`;
}

const only = new Set(
  (process.env.SLUICE_BENCH_ONLY ?? 'throughput,attach,memory').split(',').map((p) => p.trim()),
);
build();
const parts: string[] = [];
if (only.has('throughput') || only.has('attach')) {
  const d = await startDaemon();
  try {
    if (only.has('throughput')) parts.push(await throughput(d));
    if (only.has('attach')) parts.push(await attachLatency(d));
  } finally {
    await stopDaemon(d);
  }
}
if (only.has('memory')) parts.push(await memory());
section(
  'sessions daemon',
  'npm run bench -- sessions',
  `The daemon runs as its own process from transpiled JavaScript; the client is this one.\n\n${parts.join('\n\n')}`,
);
