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
 * `CLUSTER_BENCH_CPU_ITEMS` (CPU-bound items per run, default 300), `CLUSTER_BENCH_ROUNDS`
 * (default 5) and `CLUSTER_BENCH_MEMORY_ITEMS` (default 100,000) shorten it;
 * `CLUSTER_BENCH_ONLY=scaling` runs the CPU-bound scaling rounds alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ResizeDone, ResizeJob } from '../examples/cluster-worker.js';
import resize from '../examples/cluster-worker.js';
import { type Cluster, connect, type StageStorage, startNatsServer } from '../src/cluster/index.js';
import { start } from '../src/flow/index.js';
import { fmt, median, section, table } from './lib.js';

const NOOP_ITEMS = Number(process.env.CLUSTER_BENCH_ITEMS ?? 5000);
const CPU_ITEMS = Number(process.env.CLUSTER_BENCH_CPU_ITEMS ?? 300);
const ROUNDS = Number(process.env.CLUSTER_BENCH_ROUNDS ?? 5);
/** `CLUSTER_BENCH_ONLY=scaling` runs the CPU-bound scaling rounds alone (half a minute). */
const ONLY_SCALING = process.env.CLUSTER_BENCH_ONLY === 'scaling';
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
  try {
    await Promise.all(ready);
  } catch (error) {
    // One failed to start: stop the others too, so none outlives the bench.
    await stopWorkers(children);
    throw error;
  }
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

/** CPU time a process has used, in ms, from /proc (utime + stime at 100 ticks per second). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Throughput, and the CPU time the workers, the server and the coordinator used (ms). */
interface RunResult {
  rate: number;
  wallMs: number;
  items: number;
  workerCpu: number;
  serverCpu: number;
  coordinatorCpu: number;
}

/** A stage name served by `n` worker processes of `slots` each, kept for several runs. */
interface Group {
  name: string;
  n: number;
  /** The stage's `storage` option. */
  storage: StageStorage;
  children: ChildProcess[];
}

async function startGroup(
  cluster: Cluster,
  servers: string,
  n: number,
  slots: number,
  warmJob: ResizeJob,
  storage: StageStorage = 'file',
): Promise<Group> {
  const group = { name: `s${++stageCount}`, n, storage, children: [] as ChildProcess[] };
  // The coordinator creates the stage first, so the workers find it at once.
  const stage = await cluster.stage<ResizeJob, ResizeDone>(group.name, {
    capacity: CAPACITY,
    storage,
  });
  group.children = await workers(servers, group.name, n, slots);
  try {
    // Warm-up: the processes' first items are slower (JIT, connections).
    const reading = (async () => {
      for await (const r of stage.out()) if (!r.ok) throw r.error;
    })();
    for (let i = 0; i < 10 * n; i++) await stage.submit({ ...warmJob, id: -1 });
    stage.closeInput();
    await reading;
  } catch (error) {
    // The caller never gets this group: stop its workers here, or they outlive the bench.
    await stopWorkers(group.children);
    throw error;
  } finally {
    await stage[Symbol.asyncDispose]();
  }
  return group;
}

async function stopGroup(cluster: Cluster, group: Group): Promise<void> {
  await stopWorkers(group.children);
  await cluster.removeStage(group.name);
}

/**
 * Pushes `jobs` through a new coordinator of `group`'s stage (the workers keep serving the same
 * consumer from run to run); returns the rate and the CPU each side used.
 */
async function clusterRun(
  cluster: Cluster,
  serverPid: number,
  group: Group,
  jobs: ResizeJob[],
): Promise<RunResult> {
  const stage = await cluster.stage<ResizeJob, ResizeDone>(group.name, {
    capacity: CAPACITY,
    storage: group.storage,
  });
  try {
    const t0 = performance.now();
    const workers0 = group.children.reduce((a, c) => a + cpuMs(c.pid!), 0);
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
    const wallMs = performance.now() - t0;
    const coordinator = process.cpuUsage(coordinator0);
    const result: RunResult = {
      rate: (jobs.length / wallMs) * 1000,
      wallMs,
      items: jobs.length,
      workerCpu: group.children.reduce((a, c) => a + cpuMs(c.pid!), 0) - workers0,
      serverCpu: cpuMs(serverPid) - server0,
      coordinatorCpu: (coordinator.user + coordinator.system) / 1000,
    };
    await stage.wait();
    if (got !== jobs.length) throw new Error(`lost items: ${got} of ${jobs.length}`);
    return result;
  } finally {
    await stage[Symbol.asyncDispose]();
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

/** The scaling section's text: the load, the table and what it means. */
function scalingText(loadAfterScaling: string, cpuRows: (string | number)[][]): string[] {
  return [
    `Load average (1, 5, 15 min) at the start: ${loadAtStart}; after the scaling runs: ${loadAfterScaling}; at the end: ${load()}. The machine has ${availableParallelism()} cores; the workers, nats-server (started with \`startNatsServer({ maxProcs: 1 })\`) and the coordinator (this process) all share them.`,
    '',
    `### ${CPU_MS} ms CPU-bound items`,
    '',
    table(
      [
        'run',
        'items/s (median)',
        'ratio to one process of the same storage (median; each round)',
        'cores used by workers',
        'worker CPU scaling',
        'cores used by nats-server',
        'cores used by the coordinator',
        'CPU per item: workers / server / coordinator',
      ],
      cpuRows,
    ),
    '',
    `${ROUNDS} rounds of ${CPU_ITEMS} items per configuration, the configurations taking turns within each round; medians. Each item is an integer hash loop (no allocation, so no garbage-collector threads) that runs until its process has used ${CPU_MS} ms more CPU time, one at a time per worker process. "Cores used" is CPU time over wall time; "worker CPU scaling" is the workers' cores used against one process in the same round: it says how much more computing the workers got done, whatever the wall clock. Every item crosses the server twice (item and result) and is acknowledged, so nats-server and the coordinator take CPU from the same cores the workers need: on a machine with as many cores as worker processes, the scaling is bounded by what they leave.`,
    '',
  ];
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

// The server shares the cores with the workers: one Go thread at a time wakes no other core for
// each message (see the maxProcs option).
const server = await startNatsServer({ maxProcs: 1 });
const cluster = await connect({ servers: server.url, name: 'bench' });
const groups: Group[] = [];
try {
  const noop: ResizeJob[] = Array.from({ length: NOOP_ITEMS }, (_, id) => ({ id, width: 1 }));
  // Each item burns CPU_MS of its process's CPU time, whatever the JIT made of the loop in that
  // process (a fixed number of loop rounds cost 2-9 ms from one worker process to the next).
  const cpu: ResizeJob[] = Array.from({ length: CPU_ITEMS }, (_, id) => ({
    id,
    width: 1,
    cpuTimeMs: CPU_MS,
  }));

  // No-op items: what the cluster path costs per item when fn costs nothing.
  const localNoop = ONLY_SCALING ? 0 : await localRun(16, noop);
  const noopRows: (string | number)[][] = [
    ['local flow stage (in this process)', fmt(localNoop), '1.00', '', '', ''],
  ];
  for (const n of ONLY_SCALING ? [] : [1, 2, 4]) {
    const group = await startGroup(cluster, server.url, n, 16, { id: -1, width: 1 });
    try {
      const a = await clusterRun(cluster, server.pid, group, noop);
      noopRows.push([
        `cluster, ${n} worker process${n > 1 ? 'es' : ''}`,
        fmt(a.rate),
        ratio(a.rate, localNoop).toFixed(3),
        fmt(a.workerCpu / a.items, 'ms'),
        fmt(a.serverCpu / a.items, 'ms'),
        fmt(a.coordinatorCpu / a.items, 'ms'),
      ]);
    } finally {
      await stopGroup(cluster, group);
    }
  }

  // CPU-bound items: 1, 2 and 4 worker processes (one item at a time each: a CPU-bound fn holds
  // its event loop), every process started once, then ROUNDS rounds that run each configuration
  // once in turn, so a change in the machine's load falls on every configuration alike.
  // The default file storage with 1, 2 and 4 processes, and memory storage (no store writes on
  // the server; items lost if it restarts) with 1 and 2, each against one process alike.
  const configs: [number, StageStorage][] = [
    [1, 'file'],
    [2, 'file'],
    [4, 'file'],
    [1, 'memory'],
    [2, 'memory'],
  ];
  for (const [n, storage] of configs) {
    groups.push(
      await startGroup(cluster, server.url, n, 1, { id: -1, width: 1, cpuTimeMs: CPU_MS }, storage),
    );
  }
  const local: number[] = [];
  const runs = groups.map(() => [] as RunResult[]);
  for (let round = 0; round < ROUNDS; round++) {
    local.push(await localRun(1, cpu));
    for (const [i, g] of groups.entries())
      runs[i]!.push(await clusterRun(cluster, server.pid, g, cpu));
  }
  const cores = (cpuMsUsed: number, r: RunResult) => cpuMsUsed / r.wallMs;
  const cpuRows: (string | number)[][] = [
    ['local flow stage (in this process)', fmt(median(local)), '', '', '', '', '', ''],
  ];
  for (const [i, [n, storage]] of configs.entries()) {
    const rs = runs[i]!;
    const one = runs[configs.findIndex(([m, s]) => m === 1 && s === storage)]!;
    const perRound = rs.map((r, i) => ratio(r.rate, one[i]!.rate));
    const workerScale = rs.map((r, i) =>
      ratio(cores(r.workerCpu, r), cores(one[i]!.workerCpu, one[i]!)),
    );
    cpuRows.push([
      `cluster, ${n} worker process${n > 1 ? 'es' : ''}${storage === 'memory' ? ", storage: 'memory'" : ''}`,
      fmt(median(rs.map((r) => r.rate))),
      `${median(perRound).toFixed(2)}× (${perRound.map((x) => x.toFixed(2)).join(', ')})`,
      fmt(median(rs.map((r) => cores(r.workerCpu, r)))),
      `${median(workerScale).toFixed(2)}×`,
      fmt(median(rs.map((r) => cores(r.serverCpu, r)))),
      fmt(median(rs.map((r) => cores(r.coordinatorCpu, r)))),
      `${fmt(median(rs.map((r) => r.workerCpu / r.items)), 'ms')} / ${fmt(median(rs.map((r) => r.serverCpu / r.items)), 'ms')} / ${fmt(median(rs.map((r) => r.coordinatorCpu / r.items)), 'ms')}`,
    ]);
  }
  for (const g of groups.splice(0)) await stopGroup(cluster, g);
  const loadAfterScaling = load();

  if (ONLY_SCALING) {
    section(
      'sluice/cluster: scaling',
      'CLUSTER_BENCH_ONLY=scaling npx tsx bench/cluster.ts',
      scalingText(loadAfterScaling, cpuRows).join('\n'),
    );
  } else {
    await restOfBench(loadAfterScaling, cpuRows, noopRows);
  }
} finally {
  for (const g of groups) await stopGroup(cluster, g).catch(() => {});
  await cluster.close();
  await server.stop();
}

/** The no-op table, the per-item latency and the coordinator's memory, after the scaling. */
async function restOfBench(
  loadAfterScaling: string,
  cpuRows: (string | number)[][],
  noopRows: (string | number)[][],
): Promise<void> {
  const lat = await perItem(cluster, server.url);
  const mem = await memory(cluster, server.url, MEMORY_ITEMS);
  const smallItems = Math.max(CAPACITY * 2, Math.round(MEMORY_ITEMS / 10));
  const memSmall = await memory(cluster, server.url, smallItems);
  const body = [
    ...scalingText(loadAfterScaling, cpuRows),
    '### No-op items',
    '',
    table(
      ['run', 'items/s', 'ratio to local', 'CPU per item: workers', 'server', 'coordinator'],
      noopRows,
    ),
    '',
    `${NOOP_ITEMS} items, 16 at a time per worker process: the cost of the cluster path itself.`,
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
}
