/// <reference lib="dom" />
/**
 * The dashboard in a real browser: Debian's headless Chromium against a real daemon process.
 * Takes the screenshots docs/dashboard.md shows (docs/img/dashboard-*.png).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { start, startFrom, Topology } from '../../src/flow/index.js';
import type { SessionsClient } from '../../src/sessions/index.js';
import {
  assertNoLeaks,
  type ResourceSnapshot,
  snapshotResources,
  withLeakCheck,
} from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { ROOT, runCli } from '../sessions/daemon-harness.js';
import { type Browser, launchChromium } from './chromium.js';
import { type DashboardDaemon, startDashboardDaemon } from './daemon.js';

const IMG = join(ROOT, 'docs/img');

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A small real flow (fetch → parse → store, parse the slowest) fed until `stop()`. */
function runFlow() {
  const fetch = start(
    async (i: number) => {
      await pause(2);
      return i;
    },
    { workers: 2, capacity: 16, trackServiceTime: true },
  );
  const parse = startFrom(
    fetch.out(),
    async (i: number) => {
      await pause(6 + (i % 5));
      return i;
    },
    { workers: 1, capacity: 16, maxWIP: 6, trackServiceTime: true },
  );
  const store = startFrom(
    parse.out(),
    async (i: number) => {
      await pause(1);
      return i;
    },
    { workers: 1, capacity: 16, trackServiceTime: true },
  );
  const topology = new Topology()
    .addStage('fetch', fetch)
    .addStage('parse', parse)
    .addStage('store', store)
    .addEdge('fetch', 'parse')
    .addEdge('parse', 'store')
    .freeze();
  let stopped = false;
  const feeding = (async () => {
    for (let i = 0; !stopped; i++) await fetch.submit(i);
    fetch.closeInput();
  })();
  const draining = (async () => {
    for await (const _ of store.out()) {
      // results are not needed
    }
  })();
  return {
    topology,
    async stop() {
      stopped = true;
      await feeding;
      await draining;
      await Promise.all([fetch.wait(), parse.wait(), store.wait()]);
    },
  };
}

/** The terminal's text as the page shows it (xterm.js's DOM renderer: one div per row). */
function terminalRows(page: Page): Promise<string[]> {
  return page.$$eval('.session-panel .xterm-rows > div', (rows) =>
    rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()),
  );
}

describe('dashboard in Chromium', () => {
  let daemon: DashboardDaemon;
  let browser: Browser;
  let client: SessionsClient;
  let start: ResourceSnapshot;

  before(async () => {
    start = snapshotResources();
    daemon = await startDashboardDaemon();
    try {
      browser = await launchChromium();
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    client = await daemon.client();
  });

  after(async () => {
    await browser?.close();
    await daemon?.stop();
    // Chromium's processes, the daemon, the profile folder: nothing of the suite is left.
    await assertNoLeaks(start, { timeoutMs: 15_000 });
  });

  it(
    'refuses the page without the token and with a wrong one; the right one opens it',
    withLeakCheck(async () => {
      const page = await browser.context.newPage();
      const res = await page.goto(`${daemon.origin}/`);
      assert.equal(res?.status(), 401);
      assert.match((await page.textContent('#msg')) ?? '', /needs its access token/);
      assert.equal(await page.$('#sessions-table'), null);
      // Only the part after '#' changes: the page reacts without a reload.
      await page.goto(`${daemon.origin}/#token=not-the-token`);
      await page.waitForFunction(() =>
        /Refused/.test(document.getElementById('msg')?.textContent ?? ''),
      );
      assert.equal(await page.$('#sessions-table'), null);
      const js = await page.evaluate(async () => (await fetch('/app.js')).status);
      assert.equal(js, 401, 'no cookie: even the script is refused');
      // The right address pasted into the same tab opens the dashboard.
      await page.goto(daemon.url);
      await page.waitForSelector('#sessions-table');
      await page.close();
    }),
  );

  it(
    'loads with the token, keeps it, and shows a spawned session within a second',
    withLeakCheck(async () => {
      const page = await browser.context.newPage();
      await page.goto(daemon.url);
      await page.waitForSelector('#sessions-table');
      assert.doesNotMatch(page.url(), /token/, 'the token leaves the address bar');
      // Kept: a plain reload (no token in the address) still opens the dashboard.
      await page.goto(`${daemon.origin}/`);
      await page.waitForSelector('#sessions-table');
      await page.waitForFunction(
        () => document.querySelector('.conn')?.textContent === 'connected',
      );
      const s = await client.spawn({ argv: ['sleep', '60'], originator: 'browser-test' });
      const t0 = performance.now();
      await page.waitForSelector(`tr[data-id="${s.id}"]`, { timeout: 1000 });
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `shown after ${ms.toFixed(0)} ms`);
      assert.match(
        (await page.textContent(`tr[data-id="${s.id}"]`)) ?? '',
        /sleep 60.*pipe.*running.*browser-test/,
      );
      await client.stop(s.id, { graceMs: 0, wait: true });
      await client.remove(s.id);
      await page.close();
    }),
  );

  it(
    "a pipe session's stdout and stderr show as text; the originator filter narrows the list",
    withLeakCheck(async () => {
      const s = await client.spawn({
        argv: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; sleep 30'],
        originator: 'texts',
      });
      const other = await client.spawn({ argv: ['sleep', '30'], originator: 'elsewhere' });
      const page = await browser.context.newPage();
      try {
        await page.goto(daemon.url);
        await page.selectOption('#originator-filter', 'texts');
        await page.waitForSelector(`tr[data-id="${s.id}"]`);
        assert.equal(await page.$(`tr[data-id="${other.id}"]`), null, 'filtered out');
        await page.click(`tr[data-id="${s.id}"]`);
        await page.waitForFunction(() =>
          /to-stdout/.test(document.querySelector('pre.output')?.textContent ?? ''),
        );
        await page.click('button[data-stream="stderr"]');
        await page.waitForFunction(() =>
          /to-stderr/.test(document.querySelector('pre.output')?.textContent ?? ''),
        );
        assert.doesNotMatch((await page.textContent('pre.output')) ?? '', /to-stdout/);
      } finally {
        await page.close();
        for (const id of [s.id, other.id]) {
          await client.stop(id, { graceMs: 0, wait: true });
          await client.remove(id);
        }
      }
    }),
  );

  it(
    'typing echo hello into a PTY session shows hello in the browser and in sluice logs; closing the tab detaches',
    withLeakCheck(async () => {
      const s = await client.spawn({
        argv: ['bash', '--norc', '--noprofile', '-i'],
        env: { PS1: '$ ', TERM: 'xterm-256color' },
        pty: { rows: 12, cols: 80 },
        originator: 'browser-test',
      });
      const page = await browser.context.newPage();
      page.on('dialog', (d) => void d.accept());
      await page.goto(daemon.url);
      await page.click(`tr[data-id="${s.id}"]`);
      await page.waitForSelector('.session-panel .xterm-rows');
      await page.waitForFunction(() =>
        /Read-only viewer/.test(
          document.querySelector('.session-panel .status')?.textContent ?? '',
        ),
      );
      const viewing = await client.get(s.id);
      assert.equal(viewing.attachments.stdout?.viewers, 1, 'the open panel is a read-only viewer');
      // Read-only: keys go nowhere.
      await page.click('.session-panel .terminal');
      await page.keyboard.type('echo ignored');
      await page.click('button.take-writer');
      await page.waitForFunction(() =>
        /Writer/.test(document.querySelector('.session-panel .status')?.textContent ?? ''),
      );
      await page.click('.session-panel .terminal');
      await page.keyboard.type('echo hello\n');
      await waitFor(async () => (await terminalRows(page)).includes('hello'), {
        timeoutMs: 10_000,
        message: 'hello on a row of the browser terminal',
      });
      const logs = await runCli(['logs', s.id, '--socket', daemon.socket]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /^hello\r?$/m);
      assert.doesNotMatch(logs.stdout, /ignored/);
      // A few neighbours for the picture: a finished job and another originator's session.
      const done = await client.spawn({ argv: ['sh', '-c', 'echo build ok'], originator: 'ci' });
      const other = await client.spawn({ argv: ['sleep', '600'], originator: 'agent-7' });
      await page.waitForSelector(`tr.exited[data-id="${done.id}"]`);
      await page.waitForSelector(`tr[data-id="${other.id}"]`);
      mkdirSync(IMG, { recursive: true });
      await page.screenshot({ path: join(IMG, 'dashboard-sessions.png'), fullPage: true });
      await client.stop(other.id, { graceMs: 0, wait: true });
      await client.remove(other.id);
      await client.remove(done.id);
      await page.close();
      await waitFor(
        async () => {
          const a = (await client.get(s.id)).attachments.stdout;
          return a && !a.writer && a.viewers === 0;
        },
        { timeoutMs: 10_000, message: 'closing the tab detaches' },
      );
      await client.stop(s.id, { graceMs: 500, wait: true });
      await client.remove(s.id);
    }),
  );

  it(
    "a published flow's charts gain points; a flow that stops publishing greys out",
    withLeakCheck(async () => {
      const flow = runFlow();
      const published = await client.publishFlow('ingest', flow.topology, {
        intervalMs: 250,
        drum: 'parse',
      });
      const page = await browser.context.newPage();
      try {
        await page.goto(daemon.url);
        await page.click('#tab-flows');
        await page.waitForSelector('.flow-card[data-flow="ingest"] [data-stage="parse"] rect.drum');
        const points = () =>
          page.$eval('.stage-charts[data-stage="parse"]', (e) =>
            Number((e as HTMLElement).dataset.points ?? 0),
          );
        await waitFor(async () => (await points()) >= 2, {
          timeoutMs: 10_000,
          message: 'first points',
        });
        const first = await points();
        await waitFor(async () => (await points()) > first, {
          timeoutMs: 10_000,
          message: 'the chart gains points',
        });
        // Let the charts fill a little for the picture.
        await waitFor(async () => (await points()) >= 16, { timeoutMs: 20_000 });
        mkdirSync(IMG, { recursive: true });
        await page.screenshot({ path: join(IMG, 'dashboard-flows.png'), fullPage: true });
        await published.stop();
        await page.waitForSelector('.flow-card.stale[data-flow="ingest"]', { timeout: 10_000 });
      } finally {
        await published.stop();
        await page.close();
        await flow.stop();
      }
    }),
  );
});
