/**
 * sluice/cluster against the local flow stage on the same work: throughput of an async no-op and
 * of a 5 ms CPU-bound item with 1, 2 and 4 `sluice worker` processes (a private nats-server on
 * this machine); the per-item overhead of the cluster path (one item at a time, submit to
 * result); and the coordinator's memory with 100,000 items submitted through a stage of capacity
 * 1,000 (bounded by the capacity, not by the item count).
 *
 * Every configuration runs in one process run, so ratios compare like with like; the load
 * average at the start and the end is printed, because on a shared 2-core machine other work
 * takes cores from the workers. `CLUSTER_BENCH_ITEMS` (no-op items, default 5,000),
 * `CLUSTER_BENCH_CPU_ITEMS` (default 400) and `CLUSTER_BENCH_MEMORY_ITEMS` (default 100,000)
 * shorten it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ResizeDone, ResizeJob } from '../examples/cluster-worker.js';
import resize from '../examples/cluster-worker.js';
import { type Cluster, connect, startNatsServer } from '../src/cluster/index.js';
import { start } from '../src/flow/index.js';
import { fmt, median, section, table } from './lib.js';

const NOOP_ITEMS = Number(process.env.CLUSTER_BENCH_ITEMS ?? 5000);
const CPU_ITEMS = Number(process.env.CLUSTER_BENCH_CPU_ITEMS ?? 400);
const MEMORY_ITEMS = Number(process.env.CLUSTER_BENCH_MEMORY_ITEMS ?? 100_000);
const CPU_MS = 5;
const CAPACITY = 1000;
/**
 * `sluice worker` alone: its command registered on its own program, so the bench measures the
 * cluster path whatever state the rest of the CLI is in (and loads less per process).
 */
const WORKER_MAIN = `
const { Command } = await import('commander');
const { register } = await import(${JSON.stringify(new URL('../src/cli/worker.ts', import.meta.url).href)});
const program = new Command('sluice').exitOverride();
register(program);
await program.parseAsync(['node', 'sluice', ...process.argv.slice(1)]);
`;
const MODULE = fileURLToPath(new URL('../examples/cluster-worker.ts', import.meta.url));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const loadAtStart = load();

let stageCount = 0;

/** Starts `n` worker processes for `stage`, each running `slots` items at once. */
async function workers(
  servers: string,
  stage: string,
  n: number,
  slots: number,
): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        WORKER_MAIN,
        'worker',
        '--servers',
        servers,
        '--name',
        'bench',
        '--stage',
        stage,
        '--workers',
        String(slots),
        MODULE,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        let err = '';
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
          err += chunk;
          if (err.includes('serving stage')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${err}`)));
      }),
    );
  }
  await Promise.all(ready);
  return children;
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

/** Pushes `jobs` through a cluster stage served by `n` processes; returns items per second. */
/** CPU time a process has used, in ms, from /proc (utime + stime at 100 ticks per second). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Throughput, and the CPU each item cost the workers, the server and the coordinator (ms). */
interface RunResult {
  rate: number;
  workerCpu: number;
  serverCpu: number;
  coordinatorCpu: number;
}

async function clusterRun(
  cluster: Cluster,
  servers: string,
  serverPid: number,
  n: number,
  slots: number,
  jobs: ResizeJob[],
): Promise<RunResult> {
  const name = `s${++stageCount}`;
  const stage = await cluster.stage<ResizeJob, ResizeDone>(name, { capacity: CAPACITY });
  const children = await workers(servers, name, n, slots);
  try {
    // Warm-up: the processes' first items are slower (JIT, connections).
    for (let i = 0; i < 20; i++) await stage.submit({ id: -1, width: 1 });
    let warm = 0;
    const it = stage.out();
    while (warm < 20) {
      const r = await it.next();
      if (r.done) break;
      warm++;
    }
    const t0 = performance.now();
    const workers0 = children.reduce((a, c) => a + cpuMs(c.pid!), 0);
    const server0 = cpuMs(serverPid);
    const coordinator0 = process.cpuUsage();
    const reading = (async () => {
      let got = 0;
      for await (const r of stage.out()) {
        if (!r.ok) throw r.error;
        got++;
      }
      return got;
    })();
    let window: Promise<void>[] = [];
    for (const job of jobs) {
      window.push(stage.submit(job));
      if (window.length >= 256) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    stage.closeInput();
    const got = await reading;
    const ms = performance.now() - t0;
    const coordinator = process.cpuUsage(coordinator0);
    const per = (cpu: number) => cpu / jobs.length;
    const result: RunResult = {
      rate: (jobs.length / ms) * 1000,
      workerCpu: per(children.reduce((a, c) => a + cpuMs(c.pid!), 0) - workers0),
      serverCpu: per(cpuMs(serverPid) - server0),
      coordinatorCpu: per((coordinator.user + coordinator.system) / 1000),
    };
    await stage.wait();
    if (got !== jobs.length) throw new Error(`lost items: ${got} of ${jobs.length}`);
    return result;
  } finally {
    await stopWorkers(children);
    await stage.remove();
  }
}

/** The same jobs through a local flow stage with `workers` concurrent calls. */
async function localRun(workersCount: number, jobs: ResizeJob[]): Promise<number> {
  const stage = start((job: ResizeJob, signal: AbortSignal) => resize(job, signal), {
    capacity: CAPACITY,
    workers: workersCount,
  });
  const t0 = performance.now();
  const reading = (async () => {
    let got = 0;
    for await (const r of stage.out()) if (r.ok) got++;
    return got;
  })();
  for (const job of jobs) await stage.submit(job);
  stage.closeInput();
  const got = await reading;
  await stage.wait();
  if (got !== jobs.length) throw new Error('local stage lost items');
  return (jobs.length / (performance.now() - t0)) * 1000;
}

/** One item at a time, submit to result: the cluster path's latency per item (ms). */
async function perItem(cluster: Cluster, servers: string): Promise<number[]> {
  const name = `s${++stageCount}`;
  const stage = await cluster.stage<ResizeJob, ResizeDone>(name, { capacity: 10, maxWIP: 1 });
  const children = await workers(servers, name, 1, 1);
  const it = stage.out();
  const times: number[] = [];
  try {
    for (let i = 0; i < 520; i++) {
      const t0 = performance.now();
      await stage.submit({ id: i, width: 1 });
      await it.next();
      if (i >= 20) times.push(performance.now() - t0);
    }
    stage.closeInput();
    await stage.discardAndWait();
  } finally {
    await stopWorkers(children);
    await stage.remove();
  }
  return times;
}

/** Coordinator heap and RSS peaks while `items` go through a stage of capacity CAPACITY. */
async function memory(
  cluster: Cluster,
  servers: string,
  items: number,
): Promise<{ heapMiB: number; rssMiB: number; seconds: number }> {
  const name = `s${++stageCount}`;
  const stage = await cluster.stage<ResizeJob, ResizeDone>(name, { capacity: CAPACITY });
  const children = await workers(servers, name, 2, 32);
  global.gc?.();
  let heap = 0;
  let rss = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  }, 20);
  const t0 = performance.now();
  try {
    const reading = (async () => {
      let got = 0;
      for await (const r of stage.out()) if (r.ok) got++;
      return got;
    })();
    let window: Promise<void>[] = [];
    for (let id = 0; id < items; id++) {
      window.push(stage.submit({ id, width: 1 }));
      if (window.length >= 256) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    stage.closeInput();
    const got = await reading;
    await stage.wait();
    if (got !== items) throw new Error(`lost items: ${got} of ${items}`);
  } finally {
    clearInterval(sample);
    await stopWorkers(children);
    await stage.remove();
  }
  return {
    heapMiB: heap / 2 ** 20,
    rssMiB: rss / 2 ** 20,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * How many rounds of `spin` take CPU_MS on a free core: the fastest of 30 timed runs (the
 * fastest is the one least disturbed by other work on the machine).
 */
async function calibrate(): Promise<number> {
  const probe = 2000;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await resize({ id: i, width: 1, spin: probe }, new AbortController().signal);
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round((probe / best) * CPU_MS);
}

const server = await startNatsServer();
const cluster = await connect({ servers: server.url, name: 'bench' });
try {
  const noop: ResizeJob[] = Array.from({ length: NOOP_ITEMS }, (_, id) => ({ id, width: 1 }));
  const spin = await calibrate();
  const cpu: ResizeJob[] = Array.from({ length: CPU_ITEMS }, (_, id) => ({ id, width: 1, spin }));
  const rows: (string | number)[][] = [];
  const cpuRows: (string | number)[][] = [];
  const localNoop = await localRun(16, noop);
  const localCpu = await localRun(1, cpu);
  rows.push(['local flow stage (in this process)', fmt(localNoop), '1.00', fmt(localCpu), '1.00']);
  let cpuOne = 0;
  for (const n of [1, 2, 4]) {
    const a = await clusterRun(cluster, server.url, server.pid, n, 16, noop);
    const b = await clusterRun(cluster, server.url, server.pid, n, 1, cpu);
    if (n === 1) cpuOne = b.rate;
    const label = `cluster, ${n} worker process${n > 1 ? 'es' : ''}`;
    rows.push([
      label,
      fmt(a.rate),
      (a.rate / localNoop).toFixed(3),
      fmt(b.rate),
      `${(b.rate / localCpu).toFixed(2)} (${(b.rate / cpuOne).toFixed(2)}× one process)`,
    ]);
    cpuRows.push([
      label,
      fmt(a.workerCpu, 'ms'),
      fmt(a.serverCpu, 'ms'),
      fmt(a.coordinatorCpu, 'ms'),
      fmt(b.workerCpu, 'ms'),
      fmt(b.serverCpu, 'ms'),
      fmt(b.coordinatorCpu, 'ms'),
    ]);
  }
  const lat = await perItem(cluster, server.url);
  const mem = await memory(cluster, server.url, MEMORY_ITEMS);
  const smallItems = Math.max(CAPACITY * 2, Math.round(MEMORY_ITEMS / 10));
  const memSmall = await memory(cluster, server.url, smallItems);
  const body = [
    `Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: ${load()}.`,
    '',
    table(
      ['run', 'no-op items/s', 'ratio to local', `${CPU_MS} ms CPU items/s`, 'ratio to local'],
      rows,
    ),
    '',
    `No-op: ${NOOP_ITEMS} items, 16 at a time per worker process; CPU: ${CPU_ITEMS} items of a fixed computation that takes ${CPU_MS} ms on a free core here, one at a time per process (a CPU-bound fn holds its event loop). Every item crosses the server twice (item and result) and is acknowledged.`,
    '',
    'CPU each item cost, from /proc and `process.cpuUsage()` (what the cluster path needs from the cores, whatever the load):',
    '',
    table(
      [
        'run',
        'no-op: workers',
        'server',
        'coordinator',
        `${CPU_MS} ms CPU: workers`,
        'server',
        'coordinator',
      ],
      cpuRows,
    ),
    '',
    table(
      ['per-item overhead (one item at a time, no-op)', 'median', 'p90'],
      [
        [
          'submit → result through the server and one worker',
          fmt(median(lat), 'ms'),
          fmt(lat.sort((x, y) => x - y)[Math.floor(lat.length * 0.9)]!, 'ms'),
        ],
      ],
    ),
    '',
    table(
      ['coordinator memory (stage capacity 1,000)', 'peak heap', 'peak RSS', 'seconds'],
      [
        [
          `${fmt(smallItems)} items submitted`,
          fmt(memSmall.heapMiB, 'MiB'),
          fmt(memSmall.rssMiB, 'MiB'),
          fmt(memSmall.seconds),
        ],
        [
          `${fmt(MEMORY_ITEMS)} items submitted`,
          fmt(mem.heapMiB, 'MiB'),
          fmt(mem.rssMiB, 'MiB'),
          fmt(mem.seconds),
        ],
      ],
    ),
  ].join('\n');
  section('sluice/cluster', 'npx tsx bench/cluster.ts', body);
} finally {
  await cluster.close();
  await server.stop();
}
