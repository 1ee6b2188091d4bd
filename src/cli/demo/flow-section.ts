/**
 * Demo, flow: read → parse → enrich (deliberately slow: the constraint) → batch → store, run
 * twice over the same records: once with no limits, once with `autoRope`, which watches the
 * stages' stats, names the drum and ropes the head to it. On a terminal the reporter's live view
 * redraws in place. The summary compares throughput and work-in-process.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AutoRope,
  autoRope,
  batcher,
  Reporter,
  type Stage,
  start,
  startFrom,
  Topology,
} from '../../flow/index.js';
import type { DemoContext } from './context.js';

export const title = 'flow: finding the drum and holding the rope';

interface Record {
  id: number;
  user: string;
  bytes: number;
}

interface RunFigures {
  seconds: number;
  perSecond: number;
  peakWip: number;
  peakKiB: number;
  drum?: string | undefined;
  rope?: number | undefined;
}

const RAW_BYTES = 2048;

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Items admitted but not yet stored, and the most there ever were. */
interface Wip {
  now: number;
  peak: number;
}

/** The five stages over `store`, wired into a frozen topology; `wip` drops as rows are stored. */
function buildFlow(store: string, items: number, wip: Wip, signal: AbortSignal) {
  // read: makes a raw record (a 2 KiB JSON line) per index, as a log reader would.
  const read = start(
    (i: number) => JSON.stringify({ id: i, user: `u${i % 97}`, pad: 'x'.repeat(RAW_BYTES) }),
    { workers: 1, capacity: items, signal },
  );
  const parse = startFrom(
    read.out(),
    (line: string) => JSON.parse(line) as Record & { pad: string },
    {
      workers: 2,
      signal,
    },
  );
  // enrich: the slow stage, one worker at ~6 ms an item.
  const enrich = startFrom(
    parse.out(),
    async (r: Record & { pad: string }): Promise<Record> => {
      await wait(6);
      return { id: r.id, user: r.user, bytes: r.pad.length };
    },
    { workers: 1, signal },
  );
  const batch = batcher(enrich.out(), 25, { signal });
  const sink = startFrom(
    batch.out(),
    async (rows: Record[]) => {
      await appendFile(store, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
      wip.now -= rows.length;
      return rows.length;
    },
    { workers: 1, signal },
  );
  const topology = new Topology()
    .addStage('read', read)
    .addStage('parse', parse)
    .addStage('enrich', enrich)
    .addStage('batch', batch)
    .addStage('store', sink)
    .addEdge('read', 'parse')
    .addEdge('parse', 'enrich')
    .addEdge('enrich', 'batch')
    .addEdge('batch', 'store', 25)
    .freeze();
  return { read, sink, topology, waitAll: [read, parse, enrich, batch, sink] };
}

/** The reporter over every stage: a live view on a terminal, silent otherwise. */
function startReporter(
  ctx: DemoContext,
  topology: Topology,
  auto: AutoRope | undefined,
  signal: AbortSignal,
): Promise<void> {
  const reporter = new Reporter({
    intervalMs: 200,
    live: ctx.color ? process.stdout : false,
    logger: ctx.color ? undefined : { info() {}, warn() {}, error() {}, debug() {} },
    drum: () => auto?.stats().drum,
  });
  for (const name of topology.stages()) reporter.addStage(name, topology.stageStats(name));
  return reporter.run(signal);
}

/**
 * Submits `items` indexes to `read`, then closes its input. Resolves (never rejects) with the
 * error that stopped it, if any: a submit waiting for a permit rejects when the run is
 * interrupted, and is observed at once, not only after the sink loop, so it is never an
 * unhandled rejection.
 */
function produce(
  read: Stage<number, string>,
  items: number,
  wip: Wip,
  signal: AbortSignal,
): Promise<unknown> {
  const producer = (async () => {
    try {
      for (let i = 0; i < items && !signal.aborted; i++) {
        wip.now++;
        wip.peak = Math.max(wip.peak, wip.now);
        await read.submit(i, { signal });
      }
    } finally {
      read.closeInput();
    }
  })();
  return producer.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function runOnce(
  ctx: DemoContext,
  dir: string,
  items: number,
  roped: boolean,
): Promise<RunFigures> {
  const ac = new AbortController();
  const stopAll = () => ac.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', stopAll, { once: true });
  const store = join(dir, roped ? 'store-roped.ndjson' : 'store-free.ndjson');
  const wip: Wip = { now: 0, peak: 0 };
  try {
    const { read, sink, topology, waitAll } = buildFlow(store, items, wip, ac.signal);
    const auto = roped ? autoRope({ topology, intervalMs: 100, signal: ac.signal }) : undefined;
    const reporting = startReporter(ctx, topology, auto, ac.signal);

    const t0 = performance.now();
    const produced = produce(read, items, wip, ac.signal);
    let stored = 0;
    for await (const r of sink.out()) if (r.ok) stored += r.value;
    await Promise.allSettled([produced, ...waitAll.map((stage) => stage.wait())]);
    const seconds = (performance.now() - t0) / 1000;
    const drum = auto?.stats().drum;
    const rope = auto?.stats().rope?.headAppliedWIP;
    ac.abort();
    await Promise.allSettled([auto?.done, reporting]);
    if (!ctx.signal.aborted && stored !== items) {
      throw new Error(`flow demo lost items: stored ${stored} of ${items}`);
    }
    return {
      seconds,
      perSecond: stored / seconds,
      peakWip: wip.peak,
      peakKiB: (wip.peak * RAW_BYTES) / 1024,
      drum,
      rope,
    };
  } finally {
    ctx.signal.removeEventListener('abort', stopAll);
  }
}

export async function run(ctx: DemoContext): Promise<void> {
  const items = ctx.quick ? 200 : 500;
  ctx.say(
    `${items} records: read → parse (2 workers) → enrich (1 worker, ~6 ms) → batch of 25 → store`,
  );
  ctx.say('run 1: no limits — read admits everything it can');
  const dir = ctx.tempDir('flow');
  const free = await runOnce(ctx, dir.path, items, false);
  if (ctx.signal.aborted) return;
  ctx.say(
    'run 2: autoRope — the analyzer watches 100 ms windows, finds the drum, ropes read to it',
  );
  const roped = await runOnce(ctx, dir.path, items, true);
  dir.remove();
  if (ctx.signal.aborted) return;
  const row = (name: string, f: RunFigures) =>
    `  ${name.padEnd(10)} ${f.seconds.toFixed(2).padStart(6)} s  ${f.perSecond.toFixed(0).padStart(6)} items/s  peak WIP ${String(f.peakWip).padStart(4)} items (${f.peakKiB.toFixed(0)} KiB held)`;
  ctx.say(row('no limits', free));
  ctx.say(row('autoRope', roped));
  ctx.notice(
    `the analyzer named '${roped.drum}' as the drum; the rope held read to ${roped.rope ?? '?'} items in flight`,
  );
  ctx.notice(
    `peak WIP ${(free.peakWip / Math.max(1, roped.peakWip)).toFixed(1)}× lower at ${((roped.perSecond / free.perSecond) * 100).toFixed(0)}% of the throughput: the drum sets the pace, the rope keeps the queue short`,
  );
}
