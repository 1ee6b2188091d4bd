/**
 * The sessions daemon, run as its own process (`sluice daemon`), measured through the client:
 *
 * 1. Throughput: one attached client receives a chatty child's output (`head -c N /dev/zero`),
 *    from attach to the exit, in MB/s. Peer: the same child read by this process straight from a
 *    `child_process.spawn` pipe (no daemon, no socket): the ceiling on this machine.
 * 2. Attach latency with a full 1 MiB backlog: from `attach()` (a new connection, hello, attach)
 *    until the whole backlog has arrived. Peer: `snapshot()` (a snapshot over an open connection).
 * 3. Memory: 100 sessions printing continuously (`yes`) for 10 s; the daemon's peak RSS.
 *
 * Targets (issue 8): ≥ 200 MB/s, < 50 ms, < 300 MB.
 * `npx tsx bench/sessions.ts` (or `npm run bench -- sessions`). Env: SLUICE_BENCH_MB (512).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionsClient } from '../src/sessions/index.js';
import { fmt, median, section, table } from './lib.js';

const MB = Number(process.env.SLUICE_BENCH_MB ?? 512);
const BYTES = MB * 1024 * 1024;
const RUNS = 3;
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

async function startDaemon(): Promise<{ child: ChildProcess; socket: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const socket = join(dir, 'd.sock');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'daemon', '-q', '--socket', socket],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  for (let i = 0; i < 200; i++) {
    try {
      const c = await SessionsClient.connect({ socketPath: socket });
      await c.close();
      return { child, socket, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('the daemon did not start');
}

async function stopDaemon(d: { child: ChildProcess; dir: string }): Promise<void> {
  const exited = new Promise((r) => d.child.once('exit', r));
  d.child.kill('SIGTERM');
  await exited;
  rmSync(d.dir, { recursive: true, force: true });
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU time (user + system) process `pid` has used, in ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

let daemonPid = 0;

/**
 * One attached client, from attach to the session's exit: [MB/s, bytes missed, MB delivered
 * per second of daemon CPU].
 */
async function viaDaemon(client: SessionsClient): Promise<[number, number, number]> {
  // The child waits for a line on stdin, so the attach is in place before the first byte.
  const s = await client.spawn({ argv: ['sh', '-c', `read go; exec head -c ${BYTES} /dev/zero`] });
  const a = await client.attach(s.id);
  const t0 = performance.now();
  const c0 = cpuMsOf(daemonPid);
  void a.write('go\n');
  let got = a.backlog.length;
  let missed = 0;
  for await (const ev of a) {
    if (ev.type === 'output') got += ev.data.length;
    else if (ev.type === 'missed') missed += ev.bytes;
  }
  const s1 = (performance.now() - t0) / 1000;
  const cpuS = Math.max(cpuMsOf(daemonPid) - c0, 10) / 1000;
  await client.remove(s.id);
  return [got / 1e6 / s1, missed, got / 1e6 / cpuS];
}

/** The same child read straight from a pipe by this process: MB/s. */
async function direct(): Promise<number> {
  const t0 = performance.now();
  const c = spawn('head', ['-c', String(BYTES), '/dev/zero'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let got = 0;
  for await (const chunk of c.stdout) got += (chunk as Buffer).length;
  await new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(null)));
  return got / 1e6 / ((performance.now() - t0) / 1000);
}

async function throughput(socket: string): Promise<string> {
  const client = await SessionsClient.connect({ socketPath: socket });
  const daemon: number[] = [];
  const perCpu: number[] = [];
  const peer: number[] = [];
  let missed = 0;
  await viaDaemon(client); // warm up
  for (let i = 0; i < RUNS; i++) {
    const [rate, m, c] = await viaDaemon(client);
    daemon.push(rate);
    perCpu.push(c);
    missed += m;
    peer.push(await direct());
  }
  await client.close();
  const d = median(daemon);
  const p = median(peer);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `${table(
    ['path', `MB/s (median of ${RUNS}, ${MB} MiB each)`, 'vs direct pipe'],
    [
      [`child → daemon → socket → attached client`, fmt(d), `${fmt(d / p)}×`],
      ['child → `child_process.spawn` pipe in this process', fmt(p), '1×'],
    ],
  )}\n\nThe child writes faster than one client can take, so the daemon drops for that client what\nits 1 MiB queue cannot hold (${fmt(missed / 2 ** 20)} MiB over the ${RUNS} runs, each counted in a \`missed\`\nevent). Delivered MB per second of the daemon's own CPU (reading the child, the ring, the\nsocket): ${fmt(median(perCpu))}. Load average during the run: ${load} (2 cores).`;
}

async function attachLatency(socket: string): Promise<string> {
  const client = await SessionsClient.connect({ socketPath: socket });
  const s = await client.spawn({
    argv: ['sh', '-c', 'head -c 1048576 /dev/urandom; exec sleep 600'],
  });
  for (;;) {
    const info = await client.get(s.id);
    if (info.attachments.stdout!.bytes >= 1048576) break;
    await new Promise((r) => setTimeout(r, 10));
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

async function memory(d: { child: ChildProcess; socket: string }): Promise<string> {
  const client = await SessionsClient.connect({ socketPath: d.socket });
  const pid = d.child.pid!;
  const idle = rssOf(pid);
  const ids: string[] = [];
  for (let i = 0; i < 100; i++)
    ids.push((await client.spawn({ argv: ['yes', `session ${i}`] })).id);
  let peak = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 10_000) {
    peak = Math.max(peak, rssOf(pid));
    await new Promise((r) => setTimeout(r, 100));
  }
  let written = 0;
  for (const s of await client.list()) written += s.attachments.stdout!.bytes;
  for (const id of ids) await client.stop(id, { graceMs: 0 });
  await client.close();
  return table(
    ['100 sessions running `yes` for 10 s', 'value'],
    [
      ['daemon RSS before', `${fmt(idle / 2 ** 20)} MiB`],
      ['daemon peak RSS', `${fmt(peak / 2 ** 20)} MiB`],
      ['output the daemon read (all kept in 100 × 1 MiB rings)', `${fmt(written / 2 ** 20)} MiB`],
    ],
  );
}

const d = await startDaemon();
daemonPid = d.child.pid!;
try {
  const a = await throughput(d.socket);
  const b = await attachLatency(d.socket);
  const c = await memory(d);
  section(
    'sessions daemon',
    'npm run bench -- sessions',
    `The daemon runs as its own process; the client is this one.\n\n${a}\n\n${b}\n\n${c}`,
  );
} finally {
  await stopDaemon(d);
}
