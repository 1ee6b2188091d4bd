/**
 * Whether the dashboard page stays responsive with 10 flows of 10 stages, each publishing every
 * second, in Debian's headless Chromium (playwright-core). Measured in the page over a window:
 * the main-thread tasks over 50 ms (PerformanceObserver 'longtask'): how many, the longest, and
 * their share of the window; and how long switching the charted flow takes (click to the next
 * frame after its charts are drawn).
 *
 * `npx tsx bench/dashboard-page.ts` (or `npm run bench -- dashboard`). Env: SLUICE_BENCH_SECONDS
 * (the window, default 15), SLUICE_CHROMIUM (default /usr/bin/chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { SessionRegistry } from '../src/sessions/core/registry.js';
import { DashboardServer, registryHost } from '../src/sessions/dashboard/index.js';
import type { WireFlowPublication } from '../src/sessions/wire/flow-publication.js';
import { fmt, median, section, table } from './lib.js';

const SECONDS = Number(process.env.SLUICE_BENCH_SECONDS ?? 15);
const FLOWS = 10;
const STAGES = 10;

function publication(f: number, tick: number): WireFlowPublication {
  const stages = Array.from({ length: STAGES }, (_, i) => `stage-${i}`);
  const samples: WireFlowPublication['samples'] = {};
  stages.forEach((s, i) => {
    const done = tick * (100 - i * 3 - f);
    samples[s] = {
      submitted: done + 10,
      completed: done,
      failed: Math.floor(done / 50),
      wip: 3 + ((tick + i) % 5),
      wipLimit: 8,
      queueLength: (tick * (i + 1)) % 17,
      queueCapacity: 16,
      workers: 2,
      serviceTimeMs: done * (1 + i),
      serviceTime: { count: done, p50Ms: 1 + i, p95Ms: 4 + i + (tick % 3), p99Ms: 9 + i },
    };
  });
  return {
    name: `flow-${f}`,
    intervalMs: 1000,
    at: Date.now(),
    stages,
    edges: stages.slice(1).map((s, i) => ({ from: stages[i]!, to: s, ratio: 1 })),
    drum: `stage-${(f + 5) % STAGES}`,
    samples,
  };
}

const registry = new SessionRegistry();
const dash = await DashboardServer.start({ host: registryHost(registry), listen: '0' });
let tick = 0;
// Ten minutes of history already there, as a page opened on a long-running flow would get.
for (; tick < 600; tick++) for (let f = 0; f < FLOWS; f++) dash.flows.publish(publication(f, tick));
const publisher = setInterval(() => {
  tick++;
  for (let f = 0; f < FLOWS; f++) dash.flows.publish(publication(f, tick));
}, 1000);
const profile = mkdtempSync(join(tmpdir(), 'sluice-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const load = loadavg()[0]!;
try {
  const page = await context.newPage();
  await page.goto(dash.url);
  await page.waitForSelector('#tab-flows');
  // A string, not a function: tsx's name helpers do not exist in the page.
  await page.evaluate(`(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  })()`);
  await page.click('#tab-flows');
  await page.waitForSelector(`.flow-card[data-flow="flow-${FLOWS - 1}"]`);
  await page.waitForSelector('.stage-charts[data-points]');
  const switches: number[] = [];
  const t0 = Date.now();
  let f = 1;
  while (Date.now() - t0 < SECONDS * 1000) {
    const start = performance.now();
    await page.click(`.flow-card[data-flow="flow-${f}"]`);
    await page.evaluate(
      'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())))',
    );
    switches.push(performance.now() - start);
    f = (f + 1) % FLOWS;
    await page.waitForTimeout(500);
  }
  const { longTasks, charts } = (await page.evaluate(
    "({ longTasks: window.longTasks, charts: document.querySelectorAll('.uplot').length })",
  )) as { longTasks: number[]; charts: number };
  const busy = longTasks.reduce((a, b) => a + b, 0);
  section(
    `Dashboard page: ${FLOWS} flows × ${STAGES} stages publishing every second`,
    'npm run bench -- dashboard-page',
    `${table(
      ['measure', 'value'],
      [
        ['charts on screen (the selected flow)', charts],
        ['long tasks (> 50 ms) in the window', longTasks.length],
        ['longest task', longTasks.length ? fmt(Math.max(...longTasks), 'ms') : 'none'],
        ['time in long tasks, share of the window', fmt((busy / (SECONDS * 1000)) * 100, '%')],
        [
          'switching the charted flow, median (click to drawn, through playwright)',
          fmt(median(switches), 'ms'),
        ],
      ],
    )}\n\nHeadless Chromium, ${SECONDS} s window, each flow with ten minutes of history; load average ${load.toFixed(1)} when it started.`,
  );
} finally {
  clearInterval(publisher);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await dash.close();
  await registry.shutdown();
}
