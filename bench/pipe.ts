/**
 * sluice/pipe against bash, execa and zx on the same work, in one run:
 * 1. 1 GiB through `cat FILE | wc -c` (a sparse file, so the page cache serves zeros): wall
 *    time, the Node process's own CPU time, its peak RSS. One fresh process per run. sluice with
 *    its default pipes (enlarged between commands) and with the kernel's 64 KiB (`pipeSize: 0`).
 * 2. 1,000,000 lines through command → uppercase → command (`cat | … | wc -c`): sluice's
 *    `linewise` against the same transform hand-written with Node streams and execa's generator.
 * 3. A pipeline of ten `true`: sluice, bash, execa `.pipe()` chained, zx `.pipe()` chained.
 * 4. Where larger pipes cannot help: a tiny output (`echo hi | cat`) and many stages with
 *    little data (`seq 10000 | cat ×48 | wc -l`), sluice's default pipes against 64 KiB ones.
 * Every peer runs in its own plain `node` process (the driver, bundled by esbuild, no tsx), so
 * each one's RSS and CPU are its own. Figures are medians. Runs: PIPE_BENCH_RUNS (default 5).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { fmt, median, section, table } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.PIPE_BENCH_RUNS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-pipe-'));

interface Sample {
  wallMs: number[];
  cpuMs: number[];
  maxRssMB: number;
}

function driverRun(
  driver: string,
  kind: string,
  peer: string,
  runs: number,
  file: string,
  warmup = 0,
): Sample {
  const r = spawnSync(process.execPath, [driver, kind, peer, String(runs), file, String(warmup)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${kind}/${peer} failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Sample;
}

/**
 * One fresh process per run (for RSS), runs interleaved across peers so load hits all alike;
 * the peers named in `fewer` (the slow ones) run only that many times.
 */
function perProcess(
  driver: string,
  kind: string,
  peers: string[],
  runs: number,
  file: string,
  fewer: Record<string, number> = {},
) {
  const acc = new Map<string, { wall: number[]; cpu: number[]; rss: number[] }>();
  for (const p of peers) acc.set(p, { wall: [], cpu: [], rss: [] });
  for (let i = 0; i < runs; i++) {
    for (const p of peers) {
      if (i >= (fewer[p] ?? runs)) continue;
      const s = driverRun(driver, kind, p, 1, file);
      const a = acc.get(p)!;
      a.wall.push(s.wallMs[0]!);
      a.cpu.push(s.cpuMs[0]!);
      a.rss.push(s.maxRssMB);
    }
  }
  return acc;
}

try {
  const driver = join(dir, 'driver.mjs');
  await build({
    entryPoints: [join(root, 'bench/pipe-driver.mts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: driver,
    external: ['execa', 'zx', 'koffi'],
    nodePaths: [join(root, 'node_modules')],
    logLevel: 'error',
  });
  // The bundle lives outside the repo; let it resolve the peers from the repo's node_modules.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  rmSync(join(dir, 'node_modules'), { force: true, recursive: true });
  (await import('node:fs')).symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));

  // 1 GiB sparse file.
  const gib = join(dir, 'zero.bin');
  const fd = openSync(gib, 'w');
  (await import('node:fs')).ftruncateSync(fd, 1024 ** 3);
  closeSync(fd);
  // 1,000,000 lines.
  const linesFile = join(dir, 'lines.txt');
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++) lines.push(`line ${i} of the benchmark input`);
  writeFileSync(linesFile, `${lines.join('\n')}\n`);

  // Warm up: read the file once and run each fast peer once, unmeasured, so that the first
  // measured run is not the one that pays for cold caches.
  spawnSync('cat', [gib], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const p of ['sluice', 'sluice-kernel', 'bash']) driverRun(driver, 'gib', p, 1, gib);

  let body = '';
  // 1. 1 GiB
  const gibPeers = ['sluice', 'sluice-kernel', 'bash', 'execa', 'zx'];
  const zxRuns = Math.min(RUNS, 3);
  const g = perProcess(driver, 'gib', gibPeers, RUNS, gib, { zx: zxRuns });
  const gm = (p: string, k: 'wall' | 'cpu' | 'rss') => median(g.get(p)![k]);
  body += `### 1 GiB through \`cat | wc -c\` (medians of ${RUNS}, zx ${zxRuns}; one process per run)\n\n`;
  body += table(
    ['peer', 'wall', 'vs bash', 'Node CPU', 'CPU vs execa', 'peak RSS'],
    gibPeers.map((p) => [
      p === 'sluice'
        ? 'sluice (default options)'
        : p === 'sluice-kernel'
          ? 'sluice, `pipeSize: 0` (64 KiB pipes)'
          : p === 'execa'
            ? 'execa `buffer: false`'
            : p,
      fmt(gm(p, 'wall'), 'ms'),
      p === 'bash' ? '1' : `${fmt(gm(p, 'wall') / gm('bash', 'wall'))}×`,
      fmt(gm(p, 'cpu'), 'ms'),
      p === 'execa' ? '100%' : `${fmt((100 * gm(p, 'cpu')) / gm('execa', 'cpu'))}%`,
      fmt(gm(p, 'rss'), 'MB'),
    ]),
  );
  body +=
    '\n\nNode CPU and peak RSS are those of the Node process that ran the peer (for bash: the Node process that spawned it).\n\n';

  // 2. 1,000,000 lines
  const linePeers = ['sluice', 'streams', 'execa'];
  // execa takes seconds a run: three runs, no warm-up.
  const l = new Map(
    linePeers.map((p) => [
      p,
      p === 'execa'
        ? driverRun(driver, 'lines', p, Math.min(RUNS, 3), linesFile, 0)
        : driverRun(driver, 'lines', p, RUNS, linesFile, 1),
    ]),
  );
  const lm = (p: string) => median(l.get(p)!.wallMs);
  const outputs = new Set(linePeers.map((p) => (l.get(p) as unknown as { output: string }).output));
  if (outputs.size !== 1) throw new Error(`line peers disagree: ${[...outputs].join(' / ')}`);
  body += `### 1,000,000 lines through command → uppercase → command (medians of ${RUNS} after one warm-up; execa: ${Math.min(RUNS, 3)}, none)\n\n`;
  body += table(
    ['peer', 'wall', 'vs hand-written streams', 'Node CPU'],
    linePeers.map((p) => [
      p === 'sluice'
        ? 'sluice `linewise`'
        : p === 'streams'
          ? 'Node streams, hand-written'
          : 'execa generator transform',
      fmt(lm(p), 'ms'),
      `${fmt(lm(p) / lm('streams'))}×`,
      fmt(median(l.get(p)!.cpuMs), 'ms'),
    ]),
  );

  // 3. ten `true`
  const tenPeers = ['sluice', 'sluice-kernel', 'node-spawn', 'bash', 'execa', 'zx'];
  const tenRuns = 30;
  const t = new Map(tenPeers.map((p) => [p, driverRun(driver, 'ten', p, tenRuns, '', 5)]));
  const tm = (p: string) => median(t.get(p)!.wallMs);
  body += `\n\n### A pipeline of ten \`true\` (medians of ${tenRuns}, after five warm-ups)\n\n`;
  body += table(
    ['peer', 'wall', 'vs bash'],
    tenPeers.map((p) => [
      p === 'execa' || p === 'zx'
        ? `${p} \`.pipe()\` ×9`
        : p === 'sluice-kernel'
          ? 'sluice, `pipeSize: 0`'
          : p === 'node-spawn'
            ? 'ten bare Node `spawn`s on the same pipes (the floor)'
            : p,
      fmt(tm(p), 'ms'),
      `${fmt(tm(p) / tm('bash'))}×`,
    ]),
  );

  // 4. tiny outputs and many stages: does enlarging pipes cost anything?
  const smallRuns = 30;
  body += `\n\n### Where larger pipes cannot help (medians of ${smallRuns}, after five warm-ups)\n\n`;
  const smallRows: string[][] = [];
  for (const [kind, label] of [
    ['tiny', '`echo hi | cat`'],
    ['many', '`seq 10000 | cat` ×48 `| wc -l` (50 stages)'],
  ] as const) {
    const peers = ['sluice', 'sluice-kernel', 'bash'];
    const m = new Map(peers.map((p) => [p, driverRun(driver, kind, p, smallRuns, '', 5)]));
    const w = (p: string) => median(m.get(p)!.wallMs);
    smallRows.push([
      label,
      fmt(w('sluice'), 'ms'),
      fmt(w('sluice-kernel'), 'ms'),
      fmt(w('bash'), 'ms'),
      `${fmt(w('sluice') / w('sluice-kernel'))}×`,
    ]);
  }
  body += table(
    ['work', 'sluice (default)', 'sluice, `pipeSize: 0`', 'bash', 'default vs 64 KiB pipes'],
    smallRows,
  );
  section('sluice/pipe against bash, execa and zx', 'npm run bench -- pipe', body);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
