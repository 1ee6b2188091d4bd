/**
 * What the dashboard costs the daemon. A real `sluice daemon` process holds 100 idle sessions
 * while this process publishes one flow of ten stages every second; the daemon's CPU time
 * (utime + stime from /proc) is measured over a window, first without the dashboard, then with
 * `--http` and no browser open, then with `/metrics` scraped every second. Target: under 5% of
 * one core with the dashboard on and no browser.
 *
 * `npx tsx bench/dashboard.ts` (or `npm run bench -- dashboard`). Env: SLUICE_BENCH_SECONDS
 * (the window, default 20), SLUICE_BENCH_SESSIONS (default 100).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Stats, Topology } from '../src/flow/index.js';
import { SessionsClient } from '../src/sessions/index.js';
import { fmt, section, table } from './lib.js';

const SECONDS = Number(process.env.SLUICE_BENCH_SECONDS ?? 20);
const SESSIONS = Number(process.env.SLUICE_BENCH_SESSIONS ?? 100);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TICKS_PER_SECOND = 100;

/** The daemon's CPU time so far, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Synthetic stats that move like a busy stage's. */
function fakeStage(i: number): () => Stats {
  const t0 = Date.now();
  return () => {
    const s = (Date.now() - t0) / 1000;
    const done = Math.floor(s * (100 - i * 5));
    return {
      submitted: done + 8,
      completed: done,
      failed: Math.floor(done / 100),
      panicked: 0,
      canceled: 0,
      received: 0,
      forwarded: 0,
      dropped: 0,
      serviceTimeMs: done * (1 + i),
      idleTimeMs: 0,
      outputBlockedTimeMs: 0,
      bufferedDepth: (done % 16) >> 1,
      inFlightWeight: 0,
      queueCapacity: 16,
      paused: false,
      maxWIP: 8,
      maxWIPWeight: 0,
      admittedWeight: 0,
      admitted: 4 + (done % 4),
      waiterCount: 0,
      maxWaiterCount: 0,
      targetWorkers: 2,
      activeWorkers: 2,
      wipWaitCount: 0,
      wipWaitMs: 0,
      serviceTimeDist: {
        count: done,
        minMs: 0.5,
        maxMs: 40,
        meanMs: 1 + i,
        stdDevMs: 1,
        p50Ms: 1 + i,
        p95Ms: 3 + i,
        p99Ms: 6 + i,
        underflow: 0,
        overflow: 0,
      },
    };
  };
}

function topology(): Topology {
  const t = new Topology();
  for (let i = 0; i < 10; i++) t.addStage(`stage-${i}`, fakeStage(i));
  for (let i = 1; i < 10; i++) t.addEdge(`stage-${i - 1}`, `stage-${i}`);
  return t.freeze();
}

function get(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { Authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

interface Run {
  label: string;
  cpuPercent: number;
  rss: number;
}

async function run(label: string, http: boolean, scrape: boolean): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-dash-'));
  const socket = join(dir, 'd.sock');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'daemon',
      '--quiet',
      '--socket',
      socket,
      ...(http ? ['--http', '0'] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    out += t;
  });
  let client: SessionsClient | undefined;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        client = await SessionsClient.connect({ socketPath: socket, timeoutMs: 2000 });
        if (!http || out.includes('sluice dashboard: ')) break;
        await client.close();
        client = undefined;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('the daemon did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /sluice dashboard: (\S+)/.exec(out)?.[1];
    for (let i = 0; i < SESSIONS; i++) {
      await client.spawn({ argv: ['sleep', '3600'], originator: `bench-${i % 5}` });
    }
    const published = await client.publishFlow('bench', topology(), {
      intervalMs: 1000,
      drum: 'stage-7',
    });
    let scraper: NodeJS.Timeout | undefined;
    if (scrape && url) {
      const u = new URL(url);
      const token = u.hash.replace('#token=', '');
      scraper = setInterval(() => void get(`${u.origin}/metrics`, token), 1000);
    }
    // Settle (module loading, the spawns), then measure.
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = cpuTicks(child.pid!);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const ticks = cpuTicks(child.pid!) - t0;
    const secs = (performance.now() - w0) / 1000;
    const rss = rssMiB(child.pid!);
    clearInterval(scraper);
    await published.stop();
    return { label, cpuPercent: (ticks / TICKS_PER_SECOND / secs) * 100, rss };
  } finally {
    await client?.close().catch(() => {});
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = loadavg()[0]!;
const runs = [
  await run('dashboard off', false, false),
  await run('dashboard on, no browser', true, false),
  await run('dashboard on, /metrics scraped every second', true, true),
];
section(
  `Dashboard cost: ${SESSIONS} sessions, one 10-stage flow published every second`,
  'npm run bench -- dashboard',
  `${table(
    ['daemon', 'CPU, % of one core', 'RSS'],
    runs.map((r) => [r.label, fmt(r.cpuPercent, '%'), fmt(r.rss, 'MiB')]),
  )}\n\nTarget: under 5% of one core with the dashboard on and no browser open. Window ${SECONDS} s per row; load average ${load.toFixed(1)} when it started.`,
);
