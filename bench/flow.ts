/**
 * sluice/flow against p-queue and p-map: a no-op `fn` over 1,000,000 items, one worker and four,
 * with backpressure on every side (sluice: a bounded stage, `await submit`; p-queue: `add` behind
 * `await onSizeLessThan(capacity)`; p-map: its own bounded iteration), every result consumed.
 * Then the cost of the service-time histogram (`trackServiceTime`) against the bare stage.
 * Runs are interleaved, so load on the machine hits every contender alike; figures are medians.
 */
import pMap from 'p-map';
import PQueue from 'p-queue';
import { ok, pipe, start } from '../src/flow/index.js';
import { fmt, median, section, table } from './lib.js';

const N = Number(process.env.FLOW_BENCH_ITEMS ?? 1_000_000);
const RUNS = Number(process.env.FLOW_BENCH_RUNS ?? 3);
const CAPACITY = 1024;
const noop = (i: number) => i;

async function sluice(workers: number, trackServiceTime: boolean): Promise<number> {
  const stage = start(noop, { workers, capacity: CAPACITY, trackServiceTime });
  let sum = 0;
  const t0 = performance.now();
  const producer = (async () => {
    for (let i = 0; i < N; i++) await stage.submit(i);
    stage.closeInput();
  })();
  for await (const r of stage) if (r.ok) sum += r.value;
  await producer;
  await stage.wait();
  const ms = performance.now() - t0;
  if (stage.stats().completed !== N || sum !== (N * (N - 1)) / 2) throw new Error('lost items');
  return (N / ms) * 1000;
}

async function sluicePipe(workers: number): Promise<number> {
  function* source() {
    for (let i = 0; i < N; i++) yield ok(i);
  }
  let sum = 0;
  const t0 = performance.now();
  const stage = pipe(source(), noop, { workers, capacity: CAPACITY });
  for await (const r of stage) if (r.ok) sum += r.value;
  await stage.wait();
  const ms = performance.now() - t0;
  if (stage.stats().completed !== N || sum !== (N * (N - 1)) / 2) throw new Error('lost items');
  return (N / ms) * 1000;
}

async function pQueue(workers: number): Promise<number> {
  const queue = new PQueue({ concurrency: workers });
  let sum = 0;
  let count = 0;
  const add = (v: number) => {
    sum += v;
    count++;
  };
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (queue.size >= CAPACITY) await queue.onSizeLessThan(CAPACITY);
    queue.add(() => noop(i)).then((v) => add(v as number));
  }
  await queue.onIdle();
  await Promise.resolve();
  const ms = performance.now() - t0;
  if (count !== N || sum !== (N * (N - 1)) / 2) throw new Error('p-queue lost items');
  return (N / ms) * 1000;
}

async function pMapRun(workers: number): Promise<number> {
  function* items() {
    for (let i = 0; i < N; i++) yield i;
  }
  const t0 = performance.now();
  const out = await pMap(items(), noop, { concurrency: workers });
  const ms = performance.now() - t0;
  if (out.length !== N) throw new Error('p-map lost items');
  return (N / ms) * 1000;
}

type Contender = { name: string; run: () => Promise<number> };

async function measure(contenders: Contender[]): Promise<Map<string, number>> {
  const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (const c of contenders) await c.run(); // warm-up
  // The warm-up's first tracking stage starts loading hdr-histogram-js's WebAssembly build in the
  // background; a run made only of microtasks never lets it finish, so give it a moment (any
  // real program turns its event loop far more often than that).
  await new Promise((r) => setTimeout(r, 1000));
  for (let r = 0; r < RUNS; r++) {
    for (const c of contenders) results.get(c.name)!.push(await c.run());
  }
  return new Map([...results].map(([k, v]) => [k, median(v)]));
}

const rows: (string | number)[][] = [];
const histRows: (string | number)[][] = [];
for (const workers of [1, 4]) {
  const m = await measure([
    { name: 'sluice', run: () => sluice(workers, false) },
    { name: 'sluice+hist', run: () => sluice(workers, true) },
    { name: 'sluice pipe', run: () => sluicePipe(workers) },
    { name: 'p-queue', run: () => pQueue(workers) },
    { name: 'p-map', run: () => pMapRun(workers) },
  ]);
  const s = m.get('sluice')!;
  const q = m.get('p-queue')!;
  const p = m.get('p-map')!;
  const h = m.get('sluice+hist')!;
  const sp = m.get('sluice pipe')!;
  rows.push([
    workers,
    fmt(s),
    fmt(sp),
    fmt(q),
    fmt(p),
    `${(s / q).toFixed(2)}×`,
    `${(sp / q).toFixed(2)}×`,
    `${(s / p).toFixed(2)}×`,
  ]);
  histRows.push([workers, fmt(s), fmt(h), `${(s / h).toFixed(2)}×`]);
}

section(
  'flow: a no-op stage over 1,000,000 items',
  'npm run bench -- flow',
  [
    `Items per second (median of ${RUNS} interleaved runs, ${N.toLocaleString('en-US')} items, capacity ${CAPACITY}).`,
    '',
    table(
      [
        'workers',
        'sluice start()',
        'sluice pipe()',
        'p-queue',
        'p-map',
        'start / p-queue',
        'pipe / p-queue',
        'start / p-map',
      ],
      rows,
    ),
    '',
    'The cost of the service-time histogram (`trackServiceTime: true`; stats are always on):',
    '',
    table(['workers', 'bare stage', 'with histogram', 'slowdown'], histRows),
  ].join('\n'),
);
