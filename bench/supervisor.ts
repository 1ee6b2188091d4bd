/**
 * sluice/supervisor against bare child_process and execa, on the same work in one run:
 *
 * 1. 1,000 start → stop cycles of `cat`: `supervise()` + `stop()` (stdin EOF, group sweep)
 *    against `child_process.spawn` + `kill()` + waiting for `close` (also with `detached: true`,
 *    which is how sluice gets a process group), and execa + `kill()`. They alternate in blocks of 10, in a rotating order, so load from other processes on the
 *    machine hits all alike. Wall time and this process's CPU time are both reported.
 * 2. Stop latency of a child that exits on EOF (`cat`, and the MCP memory server, a Node
 *    program): the time `stop()` takes, median.
 *
 * `npx tsx bench/supervisor.ts` (or `npm run bench -- supervisor`). Env: SLUICE_BENCH_CYCLES.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { supervise } from '../src/supervisor/index.js';
import { fmt, median, section, table, timeMs } from './lib.js';

const CYCLES = Number(process.env.SLUICE_BENCH_CYCLES ?? 1000);
const BLOCK = 10;
const MCP = fileURLToPath(new URL('../node_modules/.bin/mcp-server-memory', import.meta.url));

async function sluiceCycle(): Promise<void> {
  const child = await supervise({ argv: ['cat'] });
  await child.stop();
}

async function bareCycle(detached = false): Promise<void> {
  const c = spawn('cat', [], { stdio: ['pipe', 'pipe', 'pipe'], detached });
  await new Promise<void>((resolve, reject) => {
    c.once('spawn', resolve);
    c.once('error', reject);
  });
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  c.kill('SIGTERM');
  await closed;
}

async function execaCycle(): Promise<void> {
  const sub = execa('cat', { reject: false, buffer: false });
  sub.kill('SIGTERM');
  await sub;
}

const peers: [string, () => Promise<void>][] = [
  ['sluice `supervise` + `stop()`', sluiceCycle],
  ['bare `child_process.spawn` + `kill()` + close', () => bareCycle()],
  ['the same with `detached: true` (own group, as sluice)', () => bareCycle(true)],
  ['execa + `kill()`', execaCycle],
];

async function cycles(): Promise<string> {
  const wall = new Map<string, number>(peers.map(([n]) => [n, 0]));
  const cpu = new Map<string, number>(peers.map(([n]) => [n, 0]));
  for (const [, f] of peers) for (let i = 0; i < 20; i++) await f(); // warm up
  // Small blocks in a rotating order: load from elsewhere on the machine hits every peer alike.
  for (let done = 0, round = 0; done < CYCLES; done += BLOCK, round++) {
    const n = Math.min(BLOCK, CYCLES - done);
    for (let k = 0; k < peers.length; k++) {
      const [name, f] = peers[(k + round) % peers.length]!;
      const c0 = process.cpuUsage();
      const ms = await timeMs(async () => {
        for (let i = 0; i < n; i++) await f();
      });
      const c = process.cpuUsage(c0);
      wall.set(name, wall.get(name)! + ms);
      cpu.set(name, cpu.get(name)! + (c.user + c.system) / 1000);
    }
  }
  const bare = wall.get(peers[1]![0])!;
  const bareCpu = cpu.get(peers[1]![0])!;
  const rows = peers.map(([name]) => {
    const ms = wall.get(name)!;
    const cms = cpu.get(name)!;
    return [
      name,
      fmt(ms, 'ms'),
      fmt((ms * 1000) / CYCLES, 'µs'),
      `${(ms / bare).toFixed(2)}×`,
      fmt((cms * 1000) / CYCLES, 'µs'),
      `${(cms / bareCpu).toFixed(2)}×`,
    ];
  });
  return table(
    [
      `${CYCLES} start → stop cycles of \`cat\``,
      'wall total',
      'wall per cycle',
      'wall vs bare',
      'parent CPU per cycle',
      'CPU vs bare',
    ],
    rows,
  );
}

async function stopLatency(argv: string[], runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = await supervise({ argv, graceMs: 10_000, eofTimeoutMs: 5000 });
    if (argv[0] === MCP) {
      // Wait until it is ready to read stdin: the first response proves it.
      const it = child.messages();
      await child.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
      await it.next();
      void drainRest(it);
    }
    const t0 = performance.now();
    const info = await child.stop();
    out.push(performance.now() - t0);
    if (info.outcome !== 'eof' || info.exitCode !== 0) {
      throw new Error(`unclean stop: ${JSON.stringify(info)}`);
    }
  }
  return out;
}

async function drainRest(it: AsyncIterator<unknown>): Promise<void> {
  for (let r = await it.next(); !r.done; r = await it.next());
}

const body: string[] = [await cycles(), ''];
const cat = await stopLatency(['cat'], 200);
const mcp = await stopLatency([MCP], 10);
body.push(
  table(
    ['stop() of a child that exits on EOF', 'runs', 'median', 'p90', 'max'],
    [
      [
        '`cat`',
        cat.length,
        fmt(median(cat), 'ms'),
        fmt(p90(cat), 'ms'),
        fmt(Math.max(...cat), 'ms'),
      ],
      [
        'MCP memory server (Node)',
        mcp.length,
        fmt(median(mcp), 'ms'),
        fmt(p90(mcp), 'ms'),
        fmt(Math.max(...mcp), 'ms'),
      ],
    ],
  ),
);

function p90(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]!;
}

section(
  'supervisor: start/stop cycles and stop latency',
  'npx tsx bench/supervisor.ts',
  body.join('\n'),
);
