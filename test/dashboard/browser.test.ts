/**
 * The dashboard in a real browser: Debian's headless Chromium against a real daemon process.
 * Takes the screenshots docs/dashboard.md shows (docs/img/dashboard-*.png).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { SessionsClient } from '../../src/sessions/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { ROOT, runCli } from '../sessions/daemon-harness.js';
import { type Browser, launchChromium } from './chromium.js';
import { type DashboardDaemon, startDashboardDaemon } from './daemon.js';

const IMG = join(ROOT, 'docs/img');

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

  before(async () => {
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
  });

  it('refuses the page without the token, and a wrong token', async () => {
    const page = await browser.context.newPage();
    const res = await page.goto(`${daemon.origin}/`);
    assert.equal(res?.status(), 401);
    assert.match((await page.textContent('#msg')) ?? '', /needs its access token/);
    assert.equal(await page.$('#sessions-table'), null);
    // A fresh load (a hash change alone would not run the page again).
    await page.goto('about:blank');
    await page.goto(`${daemon.origin}/#token=not-the-token`);
    await page.waitForFunction(() =>
      /Refused/.test(document.getElementById('msg')?.textContent ?? ''),
    );
    assert.equal(await page.$('#sessions-table'), null);
    const js = await page.evaluate(async () => (await fetch('/app.js')).status);
    assert.equal(js, 401, 'no cookie: even the script is refused');
    await page.close();
  });

  it('loads with the token, keeps it, and shows a spawned session within a second', async () => {
    const page = await browser.context.newPage();
    await page.goto(daemon.url);
    await page.waitForSelector('#sessions-table');
    assert.doesNotMatch(page.url(), /token/, 'the token leaves the address bar');
    // Kept: a plain reload (no token in the address) still opens the dashboard.
    await page.goto(`${daemon.origin}/`);
    await page.waitForSelector('#sessions-table');
    await page.waitForFunction(() => document.querySelector('.conn')?.textContent === 'connected');
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
  });

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
      mkdirSync(IMG, { recursive: true });
      await page.screenshot({ path: join(IMG, 'dashboard-sessions.png'), fullPage: true });
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
});
