/**
 * toc's drum demo in sluice: parse (2 ms, 4 workers) → transform (20 ms, 1 worker) → store, 200
 * items of 64 KiB each. Run once without limits and once with the rope autoRope puts on the drum
 * it finds, and compare: the analyzer names `transform`; the rope keeps far fewer items (and
 * bytes) in flight at the same throughput.
 *
 * Run:  npx tsx examples/drum-buffer-rope.ts          (add --live on a terminal for the live view,
 *       --json for one JSON line; DBR_ITEMS=60 shrinks the run)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { autoRope, Reporter, start, startFrom, Topology } from '../src/flow/index.js'; // 'sluice/flow'

const ITEMS = Number(process.env.DBR_ITEMS ?? 200);
const ITEM_BYTES = 64 * 1024;
const json = process.argv.includes('--json');
const live = process.argv.includes('--live') && process.stderr.isTTY === true;

interface RunResult {
  mode: 'no limits' | 'autoRope';
  items: number;
  seconds: number;
  throughput: number;
  /** Items made by the producer and not yet stored, at most at once. */
  peakInFlight: number;
  peakMiB: number;
  drum?: string | undefined;
  confidence?: number;
  ropeLength?: number | undefined;
  headLimit?: number | undefined;
  discoveryWIP?: number | false;
  /** The window the rope went on, and the peak in flight after it. */
  ropedAtWindow?: number | undefined;
  peakAfterRope?: number;
  steps?: string;
}

async function run(roped: boolean): Promise<RunResult> {
  let inFlight = 0;
  let peak = 0;
  let peakAfterRope = 0;
  let ropeOn = false;

  // Unlimited run: parse may hold every item (toc's "no limits": a big buffer in front of parse).
  const parse = start(
    async (item: Buffer) => {
      await sleep(2);
      return item;
    },
    { workers: 4, capacity: ITEMS },
  );
  const transform = startFrom(
    parse.out(),
    async (item: Buffer) => {
      await sleep(20);
      return item;
    },
    { workers: 1 },
  );
  const store = startFrom(transform.out(), (item: Buffer) => {
    inFlight--;
    return item.length;
  });

  const topology = new Topology()
    .addStage('parse', parse)
    .addStage('transform', transform)
    .addStage('store', store)
    .addEdge('parse', 'transform')
    .addEdge('transform', 'store')
    .freeze();

  const ac = new AbortController();
  const auto = roped
    ? autoRope({
        topology,
        intervalMs: 100,
        signal: ac.signal,
        onWindow: (r) => {
          if (r.drum && !ropeOn) ropeOn = true;
        },
      })
    : undefined;
  let reporter: Promise<void> | undefined;
  if (live) {
    const rep = new Reporter({ intervalMs: 250, live: true, drum: () => auto?.stats().drum });
    rep.addStage('parse', parse).addStage('transform', transform).addStage('store', store);
    reporter = rep.run(ac.signal);
  }

  const t0 = performance.now();
  const producer = (async () => {
    try {
      for (let i = 0; i < ITEMS; i++) {
        const item = Buffer.alloc(ITEM_BYTES, i % 256);
        inFlight++;
        peak = Math.max(peak, inFlight);
        if (ropeOn) peakAfterRope = Math.max(peakAfterRope, inFlight);
        await parse.submit(item);
      }
    } finally {
      parse.closeInput();
    }
  })();
  let stored = 0;
  for await (const r of store.out()) if (r.ok) stored++;
  await Promise.all([producer, parse.wait(), transform.wait(), store.wait()]);
  const seconds = (performance.now() - t0) / 1000;
  ac.abort();
  await auto?.done;
  await reporter;
  if (stored !== ITEMS) throw new Error(`lost items: stored ${stored} of ${ITEMS}`);

  const result: RunResult = {
    mode: roped ? 'autoRope' : 'no limits',
    items: ITEMS,
    seconds: round(seconds, 2),
    throughput: round(ITEMS / seconds, 1),
    peakInFlight: peak,
    peakMiB: round((peak * ITEM_BYTES) / 2 ** 20, 1),
  };
  if (auto) {
    const s = auto.stats();
    const history = auto.history();
    result.drum = s.drum;
    result.confidence = auto.diagnosis()?.confidence;
    result.ropeLength = s.rope?.ropeLength;
    result.headLimit = s.rope?.headAppliedWIP;
    result.discoveryWIP = s.discoveryWIP;
    result.ropedAtWindow = history.find((r) => r.reroped)?.window;
    result.peakAfterRope = peakAfterRope;
    result.steps = collapse(history.map((r) => r.step));
  }
  return result;
}

/** "a, a, b" → "a ×2 → b". */
function collapse(steps: string[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < steps.length) {
    let j = i;
    while (j < steps.length && steps[j] === steps[i]) j++;
    out.push(j - i > 1 ? `${steps[i]} ×${j - i}` : steps[i]!);
    i = j;
  }
  return out.join(' → ');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const free = await run(false);
const roped = await run(true);
const wipCut = free.peakInFlight / roped.peakInFlight;
const throughputRatio = roped.throughput / free.throughput;

if (json) {
  console.log(JSON.stringify({ free, roped, wipCut, throughputRatio }));
} else {
  console.log(
    `drum-buffer-rope: ${ITEMS} items of 64 KiB, parse (2 ms ×4) → transform (20 ms ×1) → store\n`,
  );
  console.log('| run | seconds | items/s | peak items in flight | peak MiB in items |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of [free, roped]) {
    console.log(
      `| ${r.mode} | ${r.seconds} | ${r.throughput} | ${r.peakInFlight} | ${r.peakMiB} |`,
    );
  }
  console.log(
    `\nanalyzer: drum = ${roped.drum} (confidence ${roped.confidence}), roped at window ${roped.ropedAtWindow}` +
      ` (100 ms windows); discovery cap ${roped.discoveryWIP} on parse until then`,
  );
  console.log(
    `rope: length ${roped.ropeLength}, parse maxWIP ${roped.headLimit}; peak in flight after the rope went on: ${roped.peakAfterRope}`,
  );
  console.log(`steps: ${roped.steps}`);
  console.log(
    `\npeak WIP cut ${wipCut.toFixed(1)}× (memory held in items too); throughput ${(throughputRatio * 100).toFixed(1)}% of the unlimited run`,
  );
}
