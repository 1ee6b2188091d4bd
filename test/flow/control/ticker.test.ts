import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timerTicker } from '../../../src/flow/control/ticker.js';
import { ManualTicker } from '../../../src/flow/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

/**
 * timerTicker's interval is unref()ed: on its own it does not keep the process alive (by design,
 * like a goroutine). A test whose only pending work is the ticker holds the loop open itself.
 */
async function keepAlive(body: () => Promise<void>): Promise<void> {
  const hold = setInterval(() => {}, 1000);
  try {
    await body();
  } finally {
    clearInterval(hold);
  }
}

describe('tickers', () => {
  it(
    'timerTicker ticks until the signal aborts and leaves no timer behind',
    withLeakCheck(() =>
      keepAlive(async () => {
        const ac = new AbortController();
        let n = 0;
        for await (const _ of timerTicker.ticks(5, ac.signal)) {
          n++;
          if (n === 3) ac.abort();
        }
        assert.equal(n, 3);
        let after = 0;
        for await (const _ of timerTicker.ticks(5, ac.signal)) after++;
        assert.equal(after, 0); // an aborted signal gives no tick at all
      }),
    ),
  );

  it(
    'timerTicker coalesces ticks that fire while the loop is busy',
    withLeakCheck(() =>
      keepAlive(async () => {
        const ac = new AbortController();
        const it = timerTicker.ticks(2, ac.signal)[Symbol.asyncIterator]();
        await it.next();
        const until = performance.now() + 30; // the loop is busy for ~15 intervals
        while (performance.now() < until) {}
        // One timers phase (not a sleep): the overdue interval runs, and runs once.
        await new Promise((r) => setTimeout(r, 0));
        // Decided within microtasks, where no timer can fire: is a tick ready right now?
        const ready = (p: Promise<unknown>) =>
          Promise.race([
            p.then(() => 'tick'),
            new Promise((r) =>
              queueMicrotask(() => queueMicrotask(() => queueMicrotask(() => r('pending')))),
            ),
          ]);
        assert.equal(await ready(it.next()), 'tick'); // the missed ticks, coalesced into one
        const next = it.next();
        assert.equal(await ready(next), 'pending'); // no backlog of 15 ticks
        await next;
        await it.return?.();
      }),
    ),
  );

  it('ManualTicker resolves tick() once the loop has handled it', async () => {
    const ticker = new ManualTicker();
    const ac = new AbortController();
    const seen: number[] = [];
    const early = ticker.tick(); // queued before the loop starts
    const loop = (async () => {
      for await (const _ of ticker.ticks(100, ac.signal)) seen.push(seen.length);
    })();
    await early;
    assert.deepEqual(seen, [0]);
    assert.equal(ticker.active, true);
    await ticker.tickN(2);
    assert.deepEqual(seen, [0, 1, 2]);
    ac.abort();
    await loop;
    assert.equal(ticker.active, false);
    await ticker.tick(); // after the loop ended: resolves, nothing handled
    assert.deepEqual(seen, [0, 1, 2]);
  });
});
