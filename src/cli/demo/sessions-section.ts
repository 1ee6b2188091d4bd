/**
 * Demo, sessions: a daemon on a private temp socket (run as a real separate process, supervised),
 * two sessions spawned through the client, output that accumulated while nobody was attached
 * replayed on attach, a re-attach by offset that neither loses nor repeats a line, and stops
 * classified soft (a polite child) and hard (one that ignores SIGTERM). The daemon's shutdown and
 * the cleanup stack leave no process or socket behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupAlive } from '../../proc/index.js';
import { type ClientAttachment, SessionsClient } from '../../sessions/index.js';
import { supervise } from '../../supervisor/index.js';
import type { DemoContext } from './context.js';

export const title = 'sessions: a daemon whose backlogs survive detach and re-attach';

/** Prints a numbered tick every 100 ms; SIGTERM ends it. */
const POLITE = 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done';
/** The same, but it ignores SIGTERM, so only SIGKILL ends it. */
const STUBBORN = `trap '' TERM; ${POLITE}`;

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function connect(socketPath: string, signal: AbortSignal): Promise<SessionsClient> {
  const deadline = performance.now() + 10_000;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      return await SessionsClient.connect({ socketPath, clientName: 'demo' });
    } catch (error) {
      if (signal.aborted || performance.now() > deadline) throw error;
      await delay(wait, signal);
    }
  }
}

function lines(data: Buffer): string[] {
  return data.toString('utf8').split('\n').filter(Boolean);
}

/** Reads live output from an attachment for `ms`, then detaches; returns the lines. */
async function watch(att: ClientAttachment, ms: number, signal: AbortSignal): Promise<string[]> {
  const got: Buffer[] = [];
  const stop = delay(ms, signal).then(() => att.detach());
  for await (const event of att) if (event.type === 'output') got.push(event.data);
  await stop;
  return lines(Buffer.concat(got));
}

export async function run(ctx: DemoContext): Promise<void> {
  // A folder the daemon creates itself (0700), so it removes it when it stops: even if this
  // process is SIGKILLed, nothing is left on disk.
  const socketDir = join(tmpdir(), `sluice-demo-daemon-${randomBytes(6).toString('hex')}`);
  const socketPath = join(socketDir, 'daemon.sock');
  ctx.defer(() => rmSync(socketDir, { recursive: true, force: true }));
  // The daemon is this same CLI, so it works from the sources (tsx) and from dist alike.
  const entry = process.argv[1]!;
  const daemon = await supervise({
    // --until-stdin-closes: if this process is SIGKILLed, its end of the daemon's stdin closes
    // and the daemon shuts down (its sessions with it) instead of living on as an orphan.
    cmd: [
      process.execPath,
      ...process.execArgv,
      entry,
      'daemon',
      '--quiet',
      '--until-stdin-closes',
      '--socket',
      socketPath,
    ],
    stopGraceMs: 5000,
    onStderr: () => {},
  });
  ctx.defer(() => daemon.stop());
  const client = await connect(socketPath, ctx.signal);
  ctx.defer(() => client.close());
  ctx.say(`daemon pid ${daemon.pid} listening on a private socket (mode 0600 in a 0700 dir)`);

  const polite = await client.spawn({ argv: ['sh', '-c', POLITE], originator: 'demo' });
  const stubborn = await client.spawn({ argv: ['sh', '-c', STUBBORN], originator: 'demo' });
  ctx.defer(() => client.terminate(polite.id, { graceMs: 0 }).catch(() => {}));
  ctx.defer(() => client.terminate(stubborn.id, { graceMs: 0 }).catch(() => {}));
  ctx.say(
    `spawned ${polite.id} (pid ${polite.pid}) and ${stubborn.id} (pid ${stubborn.pid}); nobody attached`,
  );
  await delay(ctx.quick ? 600 : 1200, ctx.signal);
  if (ctx.signal.aborted) return;

  const first = await client.attach(polite.id);
  const backlog = lines(first.backlog);
  ctx.say(
    `attach: ${backlog.length} lines of backlog arrived with the attach (${backlog[0]} … ${backlog.at(-1)})`,
  );
  const live = await watch(first, 400, ctx.signal);
  const position = first.position;
  ctx.say(`then ${live.length} live lines; detached at offset ${position}`);
  await delay(600, ctx.signal);
  if (ctx.signal.aborted) return;

  const again = await client.attach(polite.id, { fromOffset: position });
  const missed = lines(again.backlog);
  await again.detach();
  const all = [...backlog, ...live, ...missed].map((l) => Number(l.split(' ')[1]));
  const gapless = all.every((n, i) => i === 0 || n === all[i - 1]! + 1);
  ctx.say(
    `re-attach from offset ${position}: the ${missed.length} lines printed while detached (${missed[0]} … ${missed.at(-1)})`,
  );
  ctx.notice(
    `ticks 1…${all.at(-1)} seen exactly once across attach, detach and re-attach: ${gapless ? 'no gap, no repeat' : 'GAP OR REPEAT'}`,
  );

  const listed = await client.list({ originator: 'demo' });
  ctx.say(`ls --originator demo: ${listed.map((s) => `${s.id} ${s.state}`).join(', ')}`);
  const soft = await client.terminate(polite.id, { graceMs: 1000 });
  const hard = await client.terminate(stubborn.id, { graceMs: 300 });
  ctx.say(`stop ${polite.id}: outcome ${soft.outcome} (${soft.signal})`);
  ctx.say(
    `stop ${stubborn.id}: outcome ${hard.outcome} (${hard.signal}; it ignored SIGTERM for 300 ms)`,
  );
  const purged = await client.purge({ originator: 'demo' });
  ctx.say(`purge --originator demo removed ${purged.length} exited sessions`);

  await client.close();
  const exit = await daemon.stop();
  const leftovers = [polite.pid, stubborn.pid].filter((pid) => groupAlive(pid));
  ctx.notice(
    `daemon stopped (${exit.outcome}); session processes left: ${leftovers.length}; socket left: ${existsSync(socketPath) ? 'yes' : 'no'}`,
  );
}
