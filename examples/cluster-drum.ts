/**
 * Drum-Buffer-Rope across processes: parse (local, 2 ms, 4 workers) → resize (a cluster stage
 * served by 3 `sluice worker` processes, 20 ms per item, one at a time each) → store (local).
 * Run once without limits and once with autoRope: the analyzer names the cluster stage as the
 * drum, the rope goes on the head (parse), and far fewer items are in flight at the same
 * throughput. The same `Topology`, `autoRope` and `Reporter` as for local stages.
 *
 * Run:  npx tsx examples/cluster-drum.ts          (--json for one JSON line; ITEMS=200 shrinks it)
 *
 * On a machine whose cores are busy with other work the worker processes get less CPU than they
 * ask for; the throughput of both runs then varies by ±15% from run to run, and the analyzer may
 * need more windows before it names the drum (the head stays at its discovery cap meanwhile).
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Cluster, connect, startNatsServer } from '../src/cluster/index.js'; // 'sluice/cluster'
import { autoRope, Reporter, start, startFrom, Topology } from '../src/flow/index.js'; // 'sluice/flow'
import type { ResizeDone, ResizeJob } from './cluster-worker.js';

const ITEMS = Number(process.env.ITEMS ?? 500);
const WORKER_PROCESSES = 3;
const json = process.argv.includes('--json');
const live = process.argv.includes('--live') && process.stderr.isTTY === true;

interface RunResult {
  mode: 'no limits' | 'autoRope';
  seconds: number;
  throughput: number;
  /** Items made by the producer and not yet stored, at most at once. */
  peakInFlight: number;
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
    const free = await run(cluster, false);
    const roped = await run(cluster, true);
    const wipCut = free.peakInFlight / roped.peakInFlight;
    const throughputRatio = roped.throughput / free.throughput;
    if (json) console.log(JSON.stringify({ free, roped, wipCut, throughputRatio }));
    else {
      console.log(
        `cluster drum: ${ITEMS} items, parse (2 ms ×4) → resize (20 ms, ${WORKER_PROCESSES} worker processes) → store\n`,
      );
      console.log('| run | seconds | items/s | peak items in flight |');
      console.log('| --- | ---: | ---: | ---: |');
      for (const r of [free, roped])
        console.log(`| ${r.mode} | ${r.seconds} | ${r.throughput} | ${r.peakInFlight} |`);
      console.log(
        `\nanalyzer: drum = ${roped.drum}; rope length ${roped.ropeLength}, parse maxWIP ${roped.headLimit}`,
      );
      console.log(
        `peak WIP cut ${wipCut.toFixed(1)}×; throughput ${(throughputRatio * 100).toFixed(1)}% of the unlimited run`,
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
