/**
 * toc's migration case in sluice: head (2 ms, 4 workers) → walk (5 ms, 1 worker) → embed (20 ms,
 * 1 worker) → store. embed is the drum; autoRope ropes it and elevates it (adds workers, up to
 * 5). At 5 workers embed can do 250 items/s and walk, at 200/s, becomes the constraint: the
 * analyzer follows the move after its hysteresis, the focusing step passes through
 * prevent-inertia, and autoRope rebuilds the rope for walk, starting from the old rope's length.
 *
 * The second run adds what toc's simulation warns about: a naive rebalancer that, when the
 * constraint moves, takes 2 of embed's new workers and gives them to walk. embed becomes the
 * constraint again and throughput drops. autoRope itself never takes workers from a stage it
 * elevated recently.
 *
 * Run:  npx tsx examples/moving-constraint.ts      (--json for one JSON line; MC_ITEMS shrinks it,
 *       --only-autorope skips the second run, MC_STOP_AFTER_MOVE=N stops producing N windows
 *       after the constraint moved)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { autoRope, pipe, start, Topology, type WindowRecord } from '../src/flow/index.js'; // 'sluice/flow'

const ITEMS = Number(process.env.MC_ITEMS ?? 700);
const STOP_AFTER_MOVE = Number(process.env.MC_STOP_AFTER_MOVE ?? 0);
const INTERVAL_MS = Number(process.env.MC_INTERVAL_MS ?? 100);
const json = process.argv.includes('--json');
const onlyAutoRope = process.argv.includes('--only-autorope');

const work = (ms: number) => async (x: number) => {
  await sleep(ms);
  return x;
};

interface Phase {
  name: string;
  windows: number;
  seconds: number;
  throughput: number;
}

interface RunResult {
  mode: string;
  items: number;
  seconds: number;
  throughput: number;
  steps: string;
  drums: string;
  phases: Phase[];
  elevations: string;
  embedWorkers: number;
  walkWorkers: number;
  migrations: number;
  /** Items/s in the 3 windows before the move and the 3 after it. */
  aroundMove: { before: number; after: number } | undefined;
}

async function run(naive: boolean): Promise<RunResult> {
  const head = start(work(2), { workers: 4, capacity: 64 });
  const walk = pipe(head.out(), work(5), { workers: 1 });
  const embed = pipe(walk.out(), work(20), { workers: 1 });
  const store = pipe(embed.out(), (x: number) => x);
  const topology = new Topology()
    .addStage('head', head)
    .addStage('walk', walk)
    .addStage('embed', embed)
    .addStage('store', store)
    .addEdge('head', 'walk')
    .addEdge('walk', 'embed')
    .addEdge('embed', 'store')
    .freeze();

  let stored = 0;
  let submitted = 0;
  let producing = true;
  let movedAt: number | undefined;
  const marks: Array<{ record: WindowRecord; at: number; stored: number; producing: boolean }> = [];
  const ac = new AbortController();
  const auto = autoRope({
    topology,
    intervalMs: INTERVAL_MS,
    signal: ac.signal,
    elevate: { maxWorkers: 5, stages: ['embed'] },
    onWindow: (record) => {
      marks.push({ record, at: performance.now(), stored, producing });
      if (record.reroped?.from !== undefined) movedAt ??= record.window;
      if (naive && record.reroped?.to === 'walk') {
        // What a naive rebalancer does when the constraint moves: feed the new drum from the old.
        embed.setWorkers(embed.stats().targetWorkers - 2);
        walk.setWorkers(walk.stats().targetWorkers + 2);
      }
    },
  });

  const t0 = performance.now();
  const producer = (async () => {
    try {
      for (let i = 0; i < ITEMS; i++) {
        const last = marks.at(-1)?.record.window ?? 0;
        if (STOP_AFTER_MOVE > 0 && movedAt !== undefined && last >= movedAt + STOP_AFTER_MOVE)
          break;
        await head.submit(i);
        submitted++;
      }
    } finally {
      producing = false;
      head.closeInput();
    }
  })();
  for await (const r of store.out()) if (r.ok) stored++;
  await Promise.all([producer, head.wait(), walk.wait(), embed.wait(), store.wait()]);
  const seconds = (performance.now() - t0) / 1000;
  ac.abort();
  await auto.done;
  if (stored !== submitted) throw new Error(`lost items: ${stored} of ${submitted}`);

  // Phases: before the first elevation, while embed is elevated, after the constraint moved.
  const firstElevation = marks.findIndex((m) => m.record.elevated);
  const move = marks.findIndex((m) => m.record.reroped?.from !== undefined);
  const lastFull = marks.findLastIndex((m) => m.producing);
  const phases: Phase[] = [];
  const phase = (name: string, from: number, to: number) => {
    if (from < 0 || to <= from) return;
    const a = from === 0 ? { at: t0, stored: 0 } : marks[from - 1]!;
    const b = marks[to]!;
    const s = (b.at - a.at) / 1000;
    phases.push({
      name,
      windows: to - from + 1,
      seconds: round(s, 2),
      throughput: round((b.stored - a.stored) / s, 1),
    });
  };
  const end = lastFull >= 0 ? lastFull : marks.length - 1;
  phase('embed drum, 1 worker', 0, (firstElevation > 0 ? firstElevation : end + 1) - 1);
  if (firstElevation > 0) phase('embed elevated', firstElevation, (move > 0 ? move : end + 1) - 1);
  if (move > 0) phase('after the move', move, end);
  let aroundMove: RunResult['aroundMove'];
  if (move >= 3 && move + 3 < marks.length) {
    const rate = (i: number, j: number) =>
      round((marks[j]!.stored - marks[i]!.stored) / ((marks[j]!.at - marks[i]!.at) / 1000), 1);
    aroundMove = { before: rate(move - 3, move), after: rate(move, move + 3) };
  }

  const s = auto.stats();
  const history = auto.history();
  return {
    mode: naive ? 'naive rebalancer steals 2 embed workers' : 'autoRope',
    items: submitted,
    seconds: round(seconds, 2),
    throughput: round(submitted / seconds, 1),
    steps: collapse(history.map((r) => r.step)),
    drums: collapse(history.map((r) => r.drum ?? '-')),
    phases,
    elevations: s.elevations.map((e) => `w${e.window}: ${e.stage}→${e.workers}`).join(', '),
    embedWorkers: embed.stats().targetWorkers,
    walkWorkers: walk.stats().targetWorkers,
    migrations: s.migrations,
    aroundMove,
  };
}

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

const good = await run(false);
const naive = onlyAutoRope ? undefined : await run(true);
if (json) {
  console.log(JSON.stringify({ good, naive }));
} else {
  console.log(
    `moving-constraint: ${ITEMS} items, head (2 ms ×4) → walk (5 ms ×1) → embed (20 ms ×1) → store\n`,
  );
  for (const r of naive ? [good, naive] : [good]) {
    console.log(`## ${r.mode}: ${r.seconds} s, ${r.throughput} items/s overall`);
    console.log(`steps:  ${r.steps}`);
    console.log(`drum:   ${r.drums}`);
    console.log(
      `elevations: ${r.elevations}; final workers: embed ${r.embedWorkers}, walk ${r.walkWorkers}`,
    );
    console.log('| phase | windows | seconds | items/s |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const p of r.phases)
      console.log(`| ${p.name} | ${p.windows} | ${p.seconds} | ${p.throughput} |`);
    if (r.aroundMove) {
      console.log(
        `around the move: ${r.aroundMove.before} items/s in the 3 windows before, ${r.aroundMove.after} in the 3 after`,
      );
    }
    console.log('');
  }
}
