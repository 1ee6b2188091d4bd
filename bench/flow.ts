/**
 * sluice/flow against a plain loop and p-queue 8, 9 and 10 (and p-map): an async no-op `fn`,
 * every result consumed on every side, with backpressure where the contender has it (sluice: a
 * bounded stage and `await submit`; p-queue: `add` behind `await onSizeLessThan(capacity)`, each
 * result taken with `.then`; p-map: its own bounded iteration). The reference is the fastest thing
 * that can do the same work: a `for` loop that awaits the same fn one item at a time. Beside it, a
 * bare one-worker hand-off with the same three awaits per item as a stage and nothing else (see
 * BareHandoff): how close any stage of this shape can get to the loop. Then the cost of the
 * service-time histogram (`trackServiceTime`) against the bare stage on the same fn.
 *
 * Runs are interleaved (every contender once, then again), so load on the machine hits every
 * contender alike; figures are medians. The stage is measured against the loop in one group
 * (1,000,000 items a run) and against the peers in a second one (200,000: p-queue 10 runs at a few
 * tens of thousands of items a second and its heap grows with the item count); see below why not
 * all in one. Each run is timed by the wall clock (the tables) and by the process's CPU time (user
 * + system, every thread, garbage collector included): on a shared machine the CPU-time ratios are
 * the steadier ones, so both are printed, with the load average before and after.
 * `FLOW_BENCH_ITEMS`, `FLOW_BENCH_PEER_ITEMS` and `FLOW_BENCH_RUNS` change it.
 */

import { loadavg } from 'node:os';
import pMap from 'p-map';
import PQueue8 from 'p-queue';
import PQueue9 from 'p-queue-9';
import PQueue10 from 'p-queue-10';
import { ok, start, startFrom } from '../src/flow/index.js';
import { fmt, median, section, table } from './lib.js';

/** Items per run against the loop: enough for a run to last well over 100 ms. */
const LOOP_ITEMS = Number(process.env.FLOW_BENCH_ITEMS ?? 1_000_000);
/** Items per run against the peers: p-queue 10 is slow, and its heap grows with the count. */
const PEER_ITEMS = Number(process.env.FLOW_BENCH_PEER_ITEMS ?? 200_000);
/** Items per run in the group being measured (LOOP_ITEMS, then PEER_ITEMS). */
let N = LOOP_ITEMS;
const RUNS = Number(process.env.FLOW_BENCH_RUNS ?? 5);
const CAPACITY = 1024;
/** The work: an async no-op, the same function for every contender. */
const fn = async (i: number): Promise<number> => i;

/** One run's rate, items per second, by the wall clock and by the process's CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/** Starts timing a run; the returned function ends it. */
function stopwatch(): () => Rate {
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const wallMs = performance.now() - w0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    return { wall: (N / wallMs) * 1000, cpu: (N / cpuMs) * 1000 };
  };
}

function check(name: string, count: number, sum: number): void {
  if (count !== N || sum !== (N * (N - 1)) / 2)
    throw new Error(`${name} lost items (${count} of ${N})`);
}

/** The reference: one item at a time, each awaited; no concurrency, no bound, no stats. */
async function loop(): Promise<Rate> {
  let sum = 0;
  let count = 0;
  const stop = stopwatch();
  for (let i = 0; i < N; i++) {
    sum += await fn(i);
    count++;
  }
  const r = stop();
  check('loop', count, sum);
  return r;
}

async function sluice(workers: number, trackServiceTime: boolean): Promise<Rate> {
  const stage = start(fn, { workers, capacity: CAPACITY, trackServiceTime });
  let sum = 0;
  let count = 0;
  const stop = stopwatch();
  const producer = (async () => {
    for (let i = 0; i < N; i++) await stage.submit(i);
    stage.closeInput();
  })();
  for await (const r of stage) {
    if (r.ok) sum += r.value;
    count++;
  }
  await producer;
  await stage.wait();
  const r = stop();
  check('sluice', count, sum);
  if (stage.stats().completed !== N) throw new Error('sluice: stats disagree');
  return r;
}

async function sluiceFrom(workers: number): Promise<Rate> {
  function* source() {
    for (let i = 0; i < N; i++) yield ok(i);
  }
  let sum = 0;
  let count = 0;
  const stop = stopwatch();
  const stage = startFrom(source(), fn, { workers, capacity: CAPACITY });
  for await (const r of stage) {
    if (r.ok) sum += r.value;
    count++;
  }
  await stage.wait();
  const r = stop();
  check('sluice startFrom', count, sum);
  return r;
}

/**
 * The least a one-worker hand-off can do in the stage's shape: `submit` returns a resolved
 * promise, the worker's settle handler on `fn`'s promise makes the reader's result, and a reader
 * that finds nothing ready awaits that handler's promise. Three awaits per item, as in a stage,
 * but no bound, no stats, no ordering, failure or cancellation rules: not a usable queue, only a
 * measure of how much of a stage's cost those three awaits are.
 */
class BareHandoff implements AsyncIterableIterator<{ ok: true; value: number }> {
  private readonly queue: number[] = [];
  private head = 0;
  private settled: Promise<IteratorResult<{ ok: true; value: number }>> | undefined;
  private closed = false;
  private waiting:
    | ((
        r:
          | Promise<IteratorResult<{ ok: true; value: number }>>
          | IteratorResult<{ ok: true; value: number }>,
      ) => void)
    | undefined;
  private readonly onSettled = (value: number): IteratorResult<{ ok: true; value: number }> => {
    this.settled = undefined;
    if (this.head < this.queue.length) this.begin(this.queue[this.head++]!);
    return { value: { ok: true, value }, done: false };
  };
  private begin(item: number): void {
    this.settled = fn(item).then(this.onSettled);
  }
  submit(item: number): Promise<void> {
    if (this.settled !== undefined) this.queue.push(item);
    else {
      this.begin(item);
      const w = this.waiting;
      this.waiting = undefined;
      w?.(this.settled!);
    }
    return RESOLVED;
  }
  close(): void {
    this.closed = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
  }
  next(): Promise<IteratorResult<{ ok: true; value: number }>> {
    if (this.settled !== undefined) return this.settled;
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}
const RESOLVED = Promise.resolve();

async function bare(): Promise<Rate> {
  const h = new BareHandoff();
  let sum = 0;
  let count = 0;
  const stop = stopwatch();
  const producer = (async () => {
    for (let i = 0; i < N; i++) await h.submit(i);
    h.close();
  })();
  for await (const r of h) {
    if (r.ok) sum += r.value;
    count++;
  }
  await producer;
  const r = stop();
  check('bare hand-off', count, sum);
  return r;
}

interface QueueLike {
  readonly size: number;
  add(task: () => Promise<number>): Promise<unknown>;
  onSizeLessThan(limit: number): Promise<void>;
  onIdle(): Promise<void>;
}

async function pQueue(make: (concurrency: number) => QueueLike, workers: number): Promise<Rate> {
  const queue = make(workers);
  let sum = 0;
  let count = 0;
  const take = (v: unknown) => {
    sum += v as number;
    count++;
  };
  const stop = stopwatch();
  for (let i = 0; i < N; i++) {
    if (queue.size >= CAPACITY) await queue.onSizeLessThan(CAPACITY);
    queue.add(() => fn(i)).then(take);
  }
  await queue.onIdle();
  // onIdle settles when the last task settled; its `.then(take)` runs a turn later.
  while (count < N) await new Promise<void>((r) => setImmediate(r));
  const r = stop();
  check('p-queue', count, sum);
  return r;
}

async function pMapRun(workers: number): Promise<Rate> {
  function* items() {
    for (let i = 0; i < N; i++) yield i;
  }
  const stop = stopwatch();
  const out = await pMap(items(), fn, { concurrency: workers });
  const r = stop();
  let sum = 0;
  for (const v of out) sum += v;
  check('p-map', out.length, sum);
  return r;
}

type Contender = { name: string; run: () => Promise<Rate> };

/** Median rates per contender: by the wall clock, and by CPU time under `<name>/cpu`. */
async function measure(contenders: Contender[]): Promise<Map<string, number>> {
  const results = new Map<string, Rate[]>(contenders.map((c) => [c.name, []]));
  for (const c of contenders) await c.run(); // warm-up
  // The warm-up's first tracking stage starts loading hdr-histogram-js's WebAssembly build in the
  // background; a run made only of microtasks never lets it finish, so give it a moment (any
  // real program turns its event loop far more often than that).
  await new Promise((r) => setTimeout(r, 1000));
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) results.get(c.name)!.push(await c.run());
  }
  const out = new Map<string, number>();
  for (const [k, v] of results) {
    out.set(k, median(v.map((r) => r.wall)));
    out.set(`${k}/cpu`, median(v.map((r) => r.cpu)));
  }
  return out;
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const q8 = (c: number) => new PQueue8({ concurrency: c }) as unknown as QueueLike;
const q9 = (c: number) => new PQueue9({ concurrency: c }) as unknown as QueueLike;
const q10 = (c: number) => new PQueue10({ concurrency: c }) as unknown as QueueLike;

const loadBefore = loadavg();
const rateRows: (string | number)[][] = [];
const cpuRows: (string | number)[][] = [];
const ratioRows: (string | number)[][] = [];
const histRows: (string | number)[][] = [];
const peerRateRows: (string | number)[][] = [];
const peerRatioRows: (string | number)[][] = [];
const peerCpuRows: (string | number)[][] = [];
// First the stage against the loop, the bare hand-off and itself with the histogram; then, in a
// second group, against the peers. Not all in one group: p-queue 10 leaves hundreds of MB of
// garbage behind it, and whoever runs next in the same process pays for its collection (in one
// group the loop ran 32% slower and a stage 48% slower than without the peers): the ratios to the
// loop would measure p-queue's heap, not the stage. Each ratio is taken within its own group.
for (const workers of [1, 4]) {
  const m = await measure([
    { name: 'loop', run: loop },
    { name: 'bare', run: bare },
    { name: 'start', run: () => sluice(workers, false) },
    { name: 'hist', run: () => sluice(workers, true) },
    { name: 'from', run: () => sluiceFrom(workers) },
  ]);
  const g = (k: string) => m.get(k)!;
  rateRows.push([workers, fmt(g('loop')), fmt(g('start')), fmt(g('hist')), fmt(g('from'))]);
  ratioRows.push([
    workers,
    ratio(g('start'), g('loop')),
    ratio(g('bare'), g('loop')),
    ratio(g('from'), g('loop')),
  ]);
  cpuRows.push([
    workers,
    ratio(g('start/cpu'), g('loop/cpu')),
    ratio(g('bare/cpu'), g('loop/cpu')),
    ratio(g('start/cpu'), g('hist/cpu')),
  ]);
  histRows.push([workers, fmt(g('start')), fmt(g('hist')), ratio(g('start'), g('hist'))]);
}
N = PEER_ITEMS;
for (const workers of [1, 4]) {
  const m = await measure([
    { name: 'start', run: () => sluice(workers, false) },
    { name: 'pq8', run: () => pQueue(q8, workers) },
    { name: 'pq9', run: () => pQueue(q9, workers) },
    { name: 'pq10', run: () => pQueue(q10, workers) },
    { name: 'pmap', run: () => pMapRun(workers) },
  ]);
  const g = (k: string) => m.get(k)!;
  peerRateRows.push([
    workers,
    fmt(g('start')),
    fmt(g('pq8')),
    fmt(g('pq9')),
    fmt(g('pq10')),
    fmt(g('pmap')),
  ]);
  peerRatioRows.push([
    workers,
    ratio(g('start'), g('pq8')),
    ratio(g('start'), g('pq9')),
    ratio(g('start'), g('pq10')),
    ratio(g('pq9'), g('pq10')),
    ratio(g('start'), g('pmap')),
  ]);
  peerCpuRows.push([
    workers,
    ratio(g('start/cpu'), g('pq8/cpu')),
    ratio(g('start/cpu'), g('pq9/cpu')),
    ratio(g('start/cpu'), g('pq10/cpu')),
    ratio(g('start/cpu'), g('pmap/cpu')),
  ]);
}
const loadAfter = loadavg();
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');

section(
  'flow: an async no-op stage',
  'npm run bench -- flow',
  [
    `Load average (1, 5, 15 min) at the start: ${load(loadBefore)}; at the end: ${load(loadAfter)}.`,
    '',
    `Items per second (median of ${RUNS} interleaved runs of ${LOOP_ITEMS.toLocaleString('en-US')} items, capacity ${CAPACITY}, \`fn = async (i) => i\`, every result consumed), the stage against the loop:`,
    '',
    table(
      ['workers', 'await loop', 'sluice start()', 'with histogram', 'sluice startFrom()'],
      rateRows,
    ),
    '',
    'Ratios in the same run (higher is better for sluice; the loop is the ceiling; the bare hand-off is one worker with the same three awaits per item as a stage and nothing else, so it bounds what any stage of this shape can reach):',
    '',
    table(['workers', 'start / loop', 'bare hand-off / loop', 'startFrom / loop'], ratioRows),
    '',
    'The same by CPU time (items per second of process CPU time, user + system, all threads; steadier than the wall clock when other work shares the machine):',
    '',
    table(['workers', 'start / loop', 'bare hand-off / loop', 'histogram slowdown'], cpuRows),
    '',
    'The cost of the service-time histogram (`trackServiceTime: true`; stats are always on):',
    '',
    table(['workers', 'bare stage', 'with histogram', 'slowdown'], histRows),
    '',
    `Against p-queue and p-map, interleaved in a group of their own after the group above (${PEER_ITEMS.toLocaleString('en-US')} items a run):`,
    '',
    table(
      ['workers', 'sluice start()', 'p-queue 8', 'p-queue 9', 'p-queue 10', 'p-map'],
      peerRateRows,
    ),
    '',
    table(
      [
        'workers',
        'start / p-queue 8',
        'start / p-queue 9',
        'start / p-queue 10',
        'p-queue 9 / 10',
        'start / p-map',
      ],
      peerRatioRows,
    ),
    '',
    'By CPU time:',
    '',
    table(
      ['workers', 'start / p-queue 8', 'start / p-queue 9', 'start / p-queue 10', 'start / p-map'],
      peerCpuRows,
    ),
  ].join('\n'),
);
