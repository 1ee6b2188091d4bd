/// <reference lib="dom" />
/** A page whose token stops working (the daemon restarted) says so instead of retrying. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionRegistry } from '../../src/sessions/core/registry.js';
import { DashboardServer, registryHost } from '../../src/sessions/dashboard/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { launchChromium } from './chromium.js';

describe('dashboard page after a restart', () => {
  it(
    'tells the user the token expired once a new daemon answers on the same port',
    withLeakCheck(async () => {
      const registry = new SessionRegistry();
      let dash = await DashboardServer.start({ host: registryHost(registry), listen: '0' });
      const port = dash.port;
      const browser = await launchChromium();
      try {
        const page = await browser.context.newPage();
        await page.goto(dash.url);
        await page.waitForFunction(
          () => document.querySelector('.conn')?.textContent === 'connected',
        );
        await dash.close();
        dash = await DashboardServer.start({ host: registryHost(registry), listen: String(port) });
        await page.waitForSelector('.expired', { timeout: 20_000 });
        assert.match((await page.textContent('.expired')) ?? '', /Run sluice dashboard/);
        await page.goto(dash.url);
        await page.waitForSelector('#sessions-table');
      } finally {
        await browser.close();
        await dash.close();
        await registry.shutdown();
      }
    }),
  );
});
