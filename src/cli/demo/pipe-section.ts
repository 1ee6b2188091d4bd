/**
 * Demo, pipe: two pipelines over data generated on the spot.
 *
 * 1. Commands only: 1 GiB from `head` to `wc -c` over a kernel pipe. The Node process's own CPU
 *    time shows that not one byte passed through JavaScript.
 * 2. Commands and a function: `seq | grep 7 | <JS: prefix each number with its digit sum> |
 *    sort -n | tail -3`, with per-stage figures (pid, wall time, exit status, peak RSS). seq → grep
 *    and sort → tail are kernel pipes; only grep's output is read by the function stage.
 */
import {
  command,
  formatBytes,
  linewise,
  MemoryWatchStage,
  memoryObserver,
  pipeline,
  type Stage,
} from '../../pipe/index.js';
import type { DemoContext } from './context.js';

export const title = 'pipe: kernel pipes between commands, a function stage between them';

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

export async function run(ctx: DemoContext): Promise<void> {
  // 1. Bulk bytes between two commands.
  const bytes = ctx.quick ? 256 * 2 ** 20 : 2 ** 30;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counted = await pipeline({ signal: ctx.signal, pipeSize: 1 << 20 })
    .add(command('head', ['-c', String(bytes), '/dev/zero']), command('wc', ['-c']))
    .text();
  const wall = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  ctx.say(
    `head -c ${formatBytes(bytes)} /dev/zero | wc -c  →  ${counted.trim()} bytes in ${wall.toFixed(0)} ms (${(bytes / 2 ** 20 / (wall / 1000)).toFixed(0)} MiB/s)`,
  );
  ctx.notice(
    `this Node process spent ${cpu.toFixed(1)} ms of CPU on it: the bytes went head → wc through a kernel pipe, never through JavaScript (a copy through JS costs ~0.7 s of CPU per GiB here)`,
  );
  if (ctx.signal.aborted) return;

  // 2. Commands and a function stage, with per-stage figures.
  const n = ctx.quick ? 200_000 : 1_000_000;
  let linesIn = 0;
  let bytesIn = 0;
  const digitSum = (s: string) => [...s].reduce((a, c) => a + c.charCodeAt(0) - 48, 0);
  const stages: Stage[] = [
    memoryObserver(command('seq', ['1', String(n)]), { intervalMs: 20 }),
    memoryObserver(command('grep', ['7']), { intervalMs: 20 }),
    linewise('digit-sum', (line) => {
      linesIn++;
      bytesIn += line.length + 1;
      return `${digitSum(line)} ${line}`;
    }),
    memoryObserver(command('sort', ['-n']), { intervalMs: 20 }),
    memoryObserver(command('tail', ['-3']), { intervalMs: 20 }),
  ];
  const p = pipeline({ signal: ctx.signal }).add(...stages);
  const last = await p.text();
  ctx.say(
    `seq 1 ${n} | grep 7 | digit-sum (JS) | sort -n | tail -3  →  ${last.trim().split('\n').join(', ')}`,
  );
  ctx.say(
    `  ${'stage'.padEnd(14)} ${'pid'.padStart(7)} ${'wall'.padStart(9)} ${'status'.padStart(7)} ${'peak RSS'.padStart(9)}`,
  );
  for (const [i, r] of p.results.entries()) {
    const stage = stages[i];
    const peak =
      stage instanceof MemoryWatchStage ? formatBytes(stage.peak.maxHwmBytes) : 'in node';
    const status = r.signal ?? r.exitCode ?? (r.error ? 'error' : 0);
    ctx.say(
      `  ${r.name.slice(0, 14).padEnd(14)} ${String(r.pid ?? '-').padStart(7)} ${`${r.durationMs.toFixed(0)} ms`.padStart(9)} ${String(status).padStart(7)} ${peak.padStart(9)}`,
    );
  }
  ctx.notice(
    `only grep's output entered JavaScript (${linesIn.toLocaleString('en-US')} lines, ${formatBytes(bytesIn)}): seq → grep and sort → tail were kernel pipes`,
  );
}
