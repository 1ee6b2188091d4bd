/**
 * The coordinator side: makes the `resize` stage of the `thumbnails` pipeline, submits jobs,
 * reads one result per job, and prints the stage's stats and each worker's.
 *
 * On several machines: start `nats-server -js` somewhere, run `sluice worker` with
 * examples/cluster-worker.ts on as many machines as you like (see that file), then
 *
 *   npx tsx examples/cluster-coordinator.ts --servers nats://HOST:4222
 *
 * On one machine, with no arguments, it starts a private nats-server and two `sluice worker`
 * processes itself, and stops them at the end.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, startNatsServer } from '../src/cluster/index.js'; // in your project: 'sluice/cluster'
import type { ResizeDone, ResizeJob } from './cluster-worker.js';

const JOBS = Number(process.env.JOBS ?? 200);
const flag = process.argv.indexOf('--servers');
let servers = flag > 0 ? process.argv[flag + 1] : undefined;

// What this program started, stopped in reverse order at the end (even on an error).
const cleanup: (() => Promise<unknown>)[] = [];
try {
  if (servers === undefined) {
    const server = await startNatsServer();
    cleanup.push(() => server.stop());
    servers = server.url;
    const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const module = fileURLToPath(new URL('./cluster-worker.ts', import.meta.url));
    for (let i = 0; i < 2; i++) {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'worker',
          '--servers',
          servers,
          '--name',
          'thumbnails',
          '--stage',
          'resize',
          '--workers',
          '2',
          module,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      cleanup.push(async () => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM'); // graceful: the worker finishes or hands back its items
        await exited;
      });
    }
    console.log(`private nats-server at ${servers}, two worker processes`);
  }

  const cluster = await connect({ servers, name: 'thumbnails' });
  cleanup.push(() => cluster.close());
  const resize = await cluster.stage<ResizeJob, ResizeDone>('resize', { capacity: 100, maxWIP: 8 });

  const reading = (async () => {
    const byPid = new Map<number, number>();
    let failed = 0;
    for await (const r of resize.out()) {
      if (r.ok) byPid.set(r.value.pid, (byPid.get(r.value.pid) ?? 0) + 1);
      else failed++;
    }
    return { byPid, failed };
  })();

  const t0 = performance.now();
  for (let id = 0; id < JOBS; id++) {
    // Every 50th job is bad on purpose: it comes back as an error result, not an exception here.
    await resize.submit({ id, width: id % 50 === 49 ? 0 : 320, waitMs: 10 });
  }
  resize.closeInput();
  const { byPid, failed } = await reading;
  await resize.wait();
  const seconds = (performance.now() - t0) / 1000;

  const s = resize.stats();
  console.log(
    `${s.completed} results for ${s.submitted} jobs in ${seconds.toFixed(2)} s (${failed} failed on purpose)`,
  );
  console.log(
    `results by worker process: ${[...byPid].map(([pid, n]) => `${pid}: ${n}`).join(', ')}`,
  );
  console.log(
    `service time p50 ${s.serviceTimeDist?.p50Ms.toFixed(1)} ms, p99 ${s.serviceTimeDist?.p99Ms.toFixed(1)} ms`,
  );
  // Workers report every second; wait for the reports that cover the whole run.
  const until = performance.now() + 3000;
  while (
    resize.workerStats().reduce((n, w) => n + w.done, 0) < s.completed &&
    performance.now() < until
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const w of resize.workerStats()) {
    console.log(
      `  worker ${w.id}: done ${w.done}, failed ${w.failed}, in flight ${w.inFlight}, p50 ${w.serviceTimeDist.p50Ms.toFixed(1)} ms`,
    );
  }
  // The stage's two streams stay on the server after wait(); remove them when the pipeline is done.
  await resize.remove();
} finally {
  for (const step of cleanup.reverse()) await step();
}
