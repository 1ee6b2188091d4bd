/**
 * Drum-Buffer-Rope across processes: parse (local, 2 ms, 4 workers) → resize (a cluster stage
 * served by 3 `sluice worker` processes, 20 ms per item, one at a time each) → store (local).
 * Runs without limits and with autoRope in turns: the analyzer names the cluster stage as the
 * drum, the rope goes on the head (parse), and far fewer items are in flight at the same
 * throughput. The same `Topology`, `autoRope` and `Reporter` as for local stages.
 *
 * Run:  npx tsx examples/cluster-drum.ts     (--json for one JSON line; --live for a live view)
 *
 * `ITEMS` (default 600) items per run, `PAIRS` (default 3) pairs of runs, the order of each pair
 * swapped from one pair to the next (so a change in the machine's load falls on both modes alike);
 * it prints medians (the throughput ratio is that of the two medians), the ratio of each pair, and
 * how busy the drum was in each run (time in `fn` over the three slots' time): the same in both
 * modes means both runs went as fast as the drum allows, which is the point of the rope (less
 * WIP, the same throughput); what keeps it under 100% is each worker's pull between two items.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Cluster, connect, startNatsServer } from '../src/cluster/index.js'; // 'sluice/cluster'
import { autoRope, Reporter, start, startFrom, Topology } from '../src/flow/index.js'; // 'sluice/flow'
import type { ResizeDone, ResizeJob } from './cluster-worker.js';

const ITEMS = Number(process.env.ITEMS ?? 600);
const PAIRS = Number(process.env.PAIRS ?? 3);
const WORKER_PROCESSES = 3;
const json = process.argv.includes('--json');
const live = process.argv.includes('--live') && process.stderr.isTTY === true;

interface RunResult {
  mode: 'no limits' | 'autoRope';
  seconds: number;
  throughput: number;
  /** Items made by the producer and not yet stored, at most at once. */
  peakInFlight: number;
  /** Time the drum's slots spent in `fn` over their time in the run (1: never idle). */
  drumBusy: number;
  drum?: string | undefined;
  headLimit?: number | undefined;
  ropeLength?: number | undefined;
}

async function run(cluster: Cluster, roped: boolean): Promise<RunResult> {
  let inFlight = 0;
  let peak = 0;
  // The unlimited run lets parse hold every item, as a big buffer in front of it would.
  const parse = start(
    async (id: number): Promise<ResizeJob> => {
      await sleep(2);
      return { id, width: 320, waitMs: 20 };
    },
    { workers: 4, capacity: ITEMS },
  );
  // The cluster stage's own buffer is small: the rope holds the head, not the drum's queue.
  const resize = await cluster.stage<ResizeJob, ResizeDone>('resize', {
    capacity: WORKER_PROCESSES * 2,
  });
  const feeding = (async () => {
    for await (const r of parse.out()) if (r.ok) await resize.submit(r.value);
    resize.closeInput();
  })();
  const store = startFrom(resize.out(), (done: ResizeDone) => {
    inFlight--;
    return done.id;
  });

  const topology = new Topology()
    .addStage('parse', parse)
    .addStage('resize', resize)
    .addStage('store', store)
    .addEdge('parse', 'resize')
    .addEdge('resize', 'store')
    .freeze();
  const ac = new AbortController();
  const auto = roped ? autoRope({ topology, intervalMs: 200, signal: ac.signal }) : undefined;
  let reporter: Promise<void> | undefined;
  if (live) {
    const rep = new Reporter({ intervalMs: 250, live: true, drum: () => auto?.stats().drum });
    rep.addStage('parse', parse).addStage('resize', resize).addStage('store', store);
    reporter = rep.run(ac.signal);
  }

  const t0 = performance.now();
  const producing = (async () => {
    for (let id = 0; id < ITEMS; id++) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await parse.submit(id);
    }
    parse.closeInput();
  })();
  let stored = 0;
  for await (const r of store.out()) if (r.ok) stored++;
  await Promise.all([producing, feeding, parse.wait(), resize.wait(), store.wait()]);
  const seconds = (performance.now() - t0) / 1000;
  const drumBusy = resize.stats().serviceTimeMs / (WORKER_PROCESSES * seconds * 1000);
  ac.abort();
  await auto?.done;
  await reporter;
  await resize[Symbol.asyncDispose]();
  if (stored !== ITEMS) throw new Error(`lost items: stored ${stored} of ${ITEMS}`);
  const s = auto?.stats();
  return {
    mode: roped ? 'autoRope' : 'no limits',
    seconds: Math.round(seconds * 100) / 100,
    throughput: Math.round((ITEMS / seconds) * 10) / 10,
    peakInFlight: peak,
    drumBusy: Math.round(drumBusy * 1000) / 1000,
    drum: s?.drum,
    headLimit: s?.rope?.headAppliedWIP,
    ropeLength: s?.rope?.ropeLength,
  };
}

const server = await startNatsServer();
const workers: ReturnType<typeof spawn>[] = [];
try {
  const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const module = fileURLToPath(new URL('./cluster-worker.ts', import.meta.url));
  let ready = 0;
  for (let i = 0; i < WORKER_PROCESSES; i++) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        'worker',
        '--servers',
        server.url,
        '--name',
        'drum',
        '--stage',
        'resize',
        '--stats-interval',
        '100ms',
        module,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.setEncoding('utf8').on('data', (line: string) => {
      if (line.includes('serving stage')) ready++;
    });
    workers.push(child);
  }
  while (ready < WORKER_PROCESSES) await sleep(20);
  const cluster = await connect({ servers: server.url, name: 'drum' });
  try {
    // Warm up (worker processes' first items, the stage's streams) so neither run pays for it.
    const warm = await cluster.stage<ResizeJob, ResizeDone>('resize', { capacity: 30 });
    const warmed = (async () => {
      for await (const _ of warm.out());
    })();
    for (let id = 0; id < 30; id++) await warm.submit({ id, width: 1, waitMs: 1 });
    warm.closeInput();
    await warmed;
    await warm[Symbol.asyncDispose]();
    const free: RunResult[] = [];
    const roped: RunResult[] = [];
    for (let pair = 0; pair < PAIRS; pair++) {
      for (const withRope of pair % 2 === 0 ? [false, true] : [true, false]) {
        (withRope ? roped : free).push(await run(cluster, withRope));
      }
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const mid = s.length >> 1;
      return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
    };
    const summary = (runs: RunResult[]) => ({
      mode: runs[0]!.mode,
      seconds: median(runs.map((r) => r.seconds)),
      throughput: median(runs.map((r) => r.throughput)),
      peakInFlight: median(runs.map((r) => r.peakInFlight)),
      drumBusy: median(runs.map((r) => r.drumBusy)),
      drum: runs.at(-1)!.drum,
      headLimit: runs.at(-1)!.headLimit,
      ropeLength: runs.at(-1)!.ropeLength,
    });
    const pairRatios = roped.map((r, i) => r.throughput / free[i]!.throughput);
    const wipCut =
      median(free.map((r) => r.peakInFlight)) / median(roped.map((r) => r.peakInFlight));
    const f = summary(free);
    const r = summary(roped);
    // The ratio of the medians: one slow run (another program took the cores) moves it least.
    const throughputRatio = r.throughput / f.throughput;
    if (json) {
      console.log(
        JSON.stringify({
          items: ITEMS,
          pairs: PAIRS,
          free: f,
          roped: r,
          wipCut,
          throughputRatio,
          pairRatios,
          runs: { free, roped },
        }),
      );
    } else {
      console.log(
        `cluster drum: ${ITEMS} items per run, ${PAIRS} pairs of runs; parse (2 ms ×4) → resize (20 ms, ${WORKER_PROCESSES} worker processes) → store\n`,
      );
      console.log('| run (medians) | seconds | items/s | peak items in flight | drum busy |');
      console.log('| --- | ---: | ---: | ---: | ---: |');
      for (const x of [f, r]) {
        console.log(
          `| ${x.mode} | ${x.seconds} | ${x.throughput} | ${x.peakInFlight} | ${(x.drumBusy * 100).toFixed(0)}% |`,
        );
      }
      console.log(
        `\nanalyzer: drum = ${r.drum}; rope length ${r.ropeLength}, parse maxWIP ${r.headLimit}`,
      );
      console.log(
        `peak WIP cut ${wipCut.toFixed(1)}×; throughput ${(throughputRatio * 100).toFixed(1)}% of the unlimited run (each pair: ${pairRatios.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')})`,
      );
    }
    await cluster.removeStage('resize');
  } finally {
    await cluster.close();
  }
} finally {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          if (w.exitCode !== null) return resolve(undefined);
          w.once('exit', resolve);
          w.kill('SIGTERM');
        }),
    ),
  );
  await server.stop();
}
