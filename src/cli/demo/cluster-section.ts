/**
 * Demo, cluster: a private nats-server, a cluster stage, two `sluice worker` processes serving it;
 * one worker is SIGKILLed mid-run, and still every item has exactly one result. Without a
 * nats-server on the machine it says how to get one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, findNatsServer, startNatsServer } from '../../cluster/index.js';
import type { DemoContext } from './context.js';

/** The worker module: 15 ms of waiting per item, then who did it. */
const WORK = `export default async function work(n) {
  await new Promise((resolve) => setTimeout(resolve, 15));
  return { n, pid: process.pid };
}
`;

export const title = 'cluster: a stage served by worker processes through NATS JetStream';

/** How to start this same CLI again: the built file, or the source through tsx. */
function cliCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts'))
    return ['--import', import.meta.resolve('tsx'), join(dirname(here), '..', 'main.ts')];
  return [join(dirname(here), '..', 'main.js')];
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Starts one `sluice worker` serving stage `work`; `ready` settles once it says it serves. */
function startWorker(
  ctx: DemoContext,
  serverUrl: string,
  module: string,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    process.execPath,
    [
      ...cliCommand(),
      'worker',
      '--servers',
      serverUrl,
      '--name',
      'demo',
      '--stage',
      'work',
      '--workers',
      '2',
      module,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  ctx.defer(() => stopped(child));
  const ready = new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      if (err.includes('serving stage')) resolve();
    });
    child.once('exit', () => reject(new Error(`a worker exited early: ${err.trim()}`)));
  });
  return { child, ready };
}

export async function run(ctx: DemoContext): Promise<void> {
  if (findNatsServer() === undefined) {
    ctx.say('nats-server is not installed, so this section only says how to get it:');
    ctx.say('  Debian/Ubuntu: apt-get install nats-server; elsewhere: a release binary from');
    ctx.say(
      '  https://github.com/nats-io/nats-server/releases (or set SLUICE_NATS_SERVER to its path)',
    );
    return;
  }
  const server = await startNatsServer();
  ctx.defer(() => server.stop());
  ctx.say(`nats-server -js at ${server.url} (pid ${server.pid}), with a private store folder`);
  const dir = ctx.tempDir('cluster');
  const module = join(dir.path, 'work.mjs');
  writeFileSync(module, WORK);

  const cluster = await connect({ servers: server.url, name: 'demo' });
  ctx.defer(() => cluster.close());
  const stage = await cluster.stage<number, { n: number; pid: number }>('work', {
    capacity: 16,
    maxWIP: 4,
    ackWaitMs: 1000,
  });

  const workers: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < 2; i++) {
    const worker = startWorker(ctx, server.url, module);
    workers.push(worker.child);
    ready.push(worker.ready);
  }
  await Promise.all(ready);
  const [victim, survivor] = workers as [ChildProcess, ChildProcess];
  ctx.say(
    `two \`sluice worker\` processes (pids ${victim.pid} and ${survivor.pid}), 2 items at a time each; maxWIP 4`,
  );

  const items = ctx.quick ? 40 : 120;
  const byPid = new Map<number, number>();
  const seen = new Set<number>();
  let killedAt = -1;
  const reading = (async () => {
    for await (const r of stage.out()) {
      if (!r.ok) continue; // only a canceled item, when the demo is interrupted
      seen.add(r.value.n);
      byPid.set(r.value.pid, (byPid.get(r.value.pid) ?? 0) + 1);
      if (killedAt < 0 && seen.size >= items / 4 && byPid.has(victim.pid!)) {
        killedAt = seen.size;
        victim.kill('SIGKILL');
        ctx.say(`  after ${seen.size} results: SIGKILL to worker ${victim.pid}`);
      }
    }
  })();
  const t0 = performance.now();
  for (let n = 0; n < items && !ctx.signal.aborted; n++)
    await stage.submit(n, { signal: ctx.signal });
  stage.closeInput();
  if (ctx.signal.aborted) return; // the deferred steps dispose the stage, which ends `reading`
  await reading;
  await stage.wait();
  const seconds = (performance.now() - t0) / 1000;
  const s = stage.stats();
  ctx.say(
    `${s.completed} results for ${s.submitted} items in ${seconds.toFixed(1)} s, ${seen.size} distinct: ` +
      [...byPid]
        .map(([pid, n]) => `${n} from ${pid}${pid === victim.pid ? ' (killed)' : ''}`)
        .join(', '),
  );
  ctx.notice(
    'whatever the killed worker held came back after the 1 s ack wait and the other worker did it: one result per item, none lost, none twice',
  );
  await stage.remove();
}
