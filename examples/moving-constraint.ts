/**
 * toc's migration case in sluice: head (2 ms, 4 workers) → walk (6 ms, 1 worker) → embed (20 ms,
 * 1 worker) → store. embed is the drum; autoRope ropes it and elevates it (adds workers, up to
 * 5). At 4 workers embed can do 200 items/s, more than walk's 167: walk is now the constraint,
 * the analyzer follows the move after its hysteresis, the focusing step passes through
 * prevent-inertia, and autoRope rebuilds the rope for walk, starting from the old rope's length.
 * (toc's walk takes 5 ms; at 6 ms the move is clear-cut instead of a tie at 200 items/s.)
 *
 * The second run adds what toc's simulation warns about: a naive rebalancer that, when the
 * constraint moves, takes 2 of embed's new workers and gives them to walk. embed becomes the
 * constraint again and throughput drops (from 167 to 103 items/s in the 3 windows after the
 * move) until autoRope has elevated embed once more. autoRope itself never takes workers from a
 * stage it elevated recently.
 *
 * The work runs on simulated time, so every run prints the same thing whatever the machine is
 * doing: each stage sleeps on a virtual clock (`SimClock` below), the stages measure their times
 * with it (`clock` option), autoRope reads it and takes its windows from a `ManualTicker`, and a
 * small loop moves the clock from one timer to the next. Figures are in simulated seconds; on
 * real timers the same pipeline moves too, but when depends on how late the machine's timers
 * fire.
 *
 * Run:  npx tsx examples/moving-constraint.ts      (--json for one JSON line; MC_ITEMS changes
 *       the item count, --only-autorope skips the second run)
 */
import {
  autoRope,
  type Clock,
  ManualTicker,
  start,
  startFrom,
  Topology,
  type WindowRecord,
} from '../src/flow/index.js'; // in your project: 'sluice/flow'

const ITEMS = Number(process.env.MC_ITEMS ?? 700);
const INTERVAL_MS = 100;
const json = process.argv.includes('--json');
const onlyAutoRope = process.argv.includes('--only-autorope');

/** A virtual clock: time moves only when `advance` is called, and timers fire in order. */
class SimClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
  /** When the next timer is due (Infinity when none is set). */
  get nextAt(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const t of this.#timers.values()) next = Math.min(next, t.at);
    return next;
  }
  /** Moves time to `at`, firing every timer due by then (earliest first, then in set order). */
  advance(at: number): void {
    this.#now = Math.max(this.#now, at);
    const due = [...this.#timers].filter(([, t]) => t.at <= this.#now);
    due.sort(([a, x], [b, y]) => x.at - y.at || a - b);
    for (const [id, t] of due) {
      this.#timers.delete(id);
      t.fn();
    }
  }
}

/** Lets every promise that can settle now settle (the stages run on microtasks only). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  const clock = new SimClock();
  const work = (ms: number) => async (x: number) => {
    await clock.sleep(ms);
    return x;
  };
  const head = start(work(2), { workers: 4, capacity: 64, clock });
  const walk = startFrom(head.out(), work(6), { workers: 1, clock });
  const embed = startFrom(walk.out(), work(20), { workers: 1, clock });
  const store = startFrom(embed.out(), (x: number) => x, { clock });
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
  let finished = false;
  const marks: Array<{ record: WindowRecord; at: number; stored: number; producing: boolean }> = [];
  const ac = new AbortController();
  const ticker = new ManualTicker();
  const auto = autoRope({
    topology,
    intervalMs: INTERVAL_MS,
    signal: ac.signal,
    ticker,
    clock,
    elevate: { maxWorkers: 5, stages: ['embed'] },
    onWindow: (record) => {
      marks.push({ record, at: clock.now(), stored, producing: submitted < ITEMS });
      if (naive && record.reroped?.to === 'walk') {
        // What a naive rebalancer does when the constraint moves: feed the new drum from the old.
        embed.setWorkers(embed.stats().targetWorkers - 2);
        walk.setWorkers(walk.stats().targetWorkers + 2);
      }
    },
  });

  const producer = (async () => {
    try {
      for (let i = 0; i < ITEMS; i++) {
        await head.submit(i);
        submitted++;
      }
    } finally {
      head.closeInput();
    }
  })();
  const consumer = (async () => {
    for await (const r of store.out()) if (r.ok) stored++;
    await Promise.all([producer, head.wait(), walk.wait(), embed.wait(), store.wait()]);
    finished = true;
  })();

  // The simulation: move the clock to the next timer or window, whichever comes first.
  let nextWindow = INTERVAL_MS;
  await settle();
  while (!finished) {
    clock.advance(Math.min(clock.nextAt, nextWindow));
    await settle();
    if (clock.now() >= nextWindow) {
      await ticker.tick();
      nextWindow += INTERVAL_MS;
    }
  }
  await consumer;
  const seconds = clock.now() / 1000;
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
    const a = from === 0 ? { at: 0, stored: 0 } : marks[from - 1]!;
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
    `moving-constraint: ${ITEMS} items, head (2 ms ×4) → walk (6 ms ×1) → embed (20 ms ×1) → store, simulated time\n`,
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
