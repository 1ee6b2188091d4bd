import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type Clock,
  InvalidOptionError,
  RestartBudget,
  type RestartEvent,
  supervise,
} from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

/** A clock the test moves by hand; timers fire only when the test says so. */
class FakeClock implements Clock {
  t = 0;
  timers: { fn: () => void; ms: number }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = { fn, ms };
    this.timers.push(h);
    return h;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((h) => h !== handle);
  }
  /** Waits for the one pending timer, advances time by its delay and fires it. */
  async fire(): Promise<number> {
    await waitFor(() => this.timers.length === 1, { message: 'a pending restart timer' });
    const h = this.timers.shift()!;
    this.t += h.ms;
    h.fn();
    return h.ms;
  }
}

describe('supervisor: restart budget (pure)', () => {
  test('backoff doubles from backoffMs up to maxBackoffMs, then gives up after maxRestarts', () => {
    const b = new RestartBudget({ maxRestarts: 6, backoffMs: 100, maxBackoffMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = b.onExit(0, 10, true);
      assert.ok(d.restart);
      delays.push(d.delayMs);
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    assert.deepEqual(b.onExit(0, 10, true), { restart: false, reason: 'gave-up', attempt: 6 });
  });

  test('a run of minUptimeMs resets the count and the backoff', () => {
    const b = new RestartBudget({ maxRestarts: 3, backoffMs: 10, minUptimeMs: 500 });
    assert.equal(b.onExit(0, 1, true).restart, true);
    assert.equal(b.onExit(0, 1, true).restart, true);
    const healthy = b.onExit(1000, 1500, true);
    assert.deepEqual(healthy, { restart: true, attempt: 1, delayMs: 10 });
  });

  test("windowMs counts only recent restarts; 'on-failure' skips clean exits", () => {
    const b = new RestartBudget({ maxRestarts: 2, backoffMs: 1, windowMs: 1000, minUptimeMs: 1e9 });
    assert.equal(b.onExit(0, 0, true).restart, true);
    assert.equal(b.onExit(0, 10, true).restart, true);
    assert.equal(b.onExit(0, 20, true).restart, false);
    assert.equal(b.onExit(0, 1015, true).restart, true, 'the first two fell out of the window');
    const f = new RestartBudget({ when: 'on-failure' });
    assert.deepEqual(f.onExit(0, 1, false), { restart: false, reason: 'clean-exit', attempt: 0 });
    assert.equal(f.onExit(0, 1, true).restart, true);
  });

  test('bad policies are refused', () => {
    for (const p of [
      { maxRestarts: -1 },
      { maxRestarts: 1.5 },
      { backoffMs: Number.NaN },
      { maxBackoffMs: -1 },
      { minUptimeMs: Number.POSITIVE_INFINITY },
      { windowMs: 0 },
      { factor: 0.5 },
      { when: 'sometimes' as 'always' },
    ]) {
      assert.throws(() => new RestartBudget(p), InvalidOptionError, JSON.stringify(p));
    }
  });

  test('property: delays never exceed maxBackoffMs, never shrink before a reset, and stop at maxRestarts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 60_000 }),
        (maxRestarts, backoffMs, maxBackoffMs) => {
          const b = new RestartBudget({ maxRestarts, backoffMs, maxBackoffMs });
          let prev = 0;
          for (let i = 0; i < maxRestarts; i++) {
            const d = b.onExit(0, 0, true);
            if (!d.restart) return false;
            if (d.delayMs > maxBackoffMs || d.delayMs < prev) return false;
            prev = d.delayMs;
          }
          return b.onExit(0, 0, true).restart === false;
        },
      ),
    );
  });
});

describe('supervisor: restart policy on a real child', () => {
  test(
    'an exiting child is restarted with the backoff sequence, then given up on',
    withLeakCheck(async () => {
      const clock = new FakeClock();
      const child = await supervise({
        argv: ['sh', '-c', 'echo run; exit 7'],
        clock,
        restart: { maxRestarts: 4, backoffMs: 100, maxBackoffMs: 300, minUptimeMs: 1000 },
      });
      const restarts: RestartEvent[] = [];
      const exits: boolean[] = [];
      let gaveUp: number | undefined;
      const pids = new Set([child.pid]);
      child.on('restart', (e) => restarts.push(e));
      child.on('exit', (_i, again) => exits.push(again));
      child.on('spawn', (pid) => pids.add(pid));
      child.on('giveup', (e) => {
        gaveUp = e.restarts;
      });
      const lines = child.lines();
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) delays.push(await clock.fire());
      const info = await child.done;
      assert.deepEqual(delays, [100, 200, 300, 300]);
      assert.deepEqual(
        restarts.map((r) => [r.attempt, r.delayMs, r.exit?.exitCode]),
        [
          [1, 100, 7],
          [2, 200, 7],
          [3, 300, 7],
          [4, 300, 7],
        ],
      );
      assert.deepEqual(exits, [true, true, true, true, false]);
      assert.equal(gaveUp, 4);
      assert.equal(child.restarts, 4);
      assert.equal(pids.size, 5, 'five distinct processes');
      assert.deepEqual([info.exitCode, info.outcome], [7, 'natural']);
      const all: string[] = [];
      for await (const l of lines) all.push(l);
      assert.deepEqual(all, ['run', 'run', 'run', 'run', 'run'], 'lines() spans every run');
    }),
  );

  test(
    'a run that stays up minUptimeMs resets the backoff',
    withLeakCheck(async () => {
      const clock = new FakeClock();
      // cat runs until the test closes its stdin: the test decides each run's uptime.
      const child = await supervise({
        argv: ['cat'],
        clock,
        restart: { maxRestarts: 10, backoffMs: 50, maxBackoffMs: 10_000, minUptimeMs: 1000 },
      });
      const delays: number[] = [];
      const runFor = async (ms: number) => {
        clock.t += ms;
        child.stdin.end();
        delays.push(await clock.fire());
        await waitFor(() => child.running);
      };
      await runFor(10);
      await runFor(10);
      await runFor(10);
      await runFor(5000); // healthy: starts over
      await runFor(10);
      assert.deepEqual(delays, [50, 100, 200, 50, 100]);
      const info = await child.stop();
      assert.equal(info.outcome, 'eof');
      assert.equal(child.restarts, 5);
    }),
  );

  test(
    'stop() during the backoff cancels the restart for good',
    withLeakCheck(async () => {
      const clock = new FakeClock();
      const child = await supervise({ argv: ['true'], clock, restart: { backoffMs: 1000 } });
      await waitFor(() => clock.timers.length === 1);
      const info = await child.stop();
      assert.equal(clock.timers.length, 0, 'the restart timer was cleared');
      assert.deepEqual([info.exitCode, info.outcome], [0, 'natural']);
      assert.equal(child.restarts, 0);
      assert.equal(await child.done, info);
    }),
  );

  test(
    "'on-failure' does not restart a clean exit; a restart that cannot spawn counts and gives up",
    withLeakCheck(async () => {
      const clock = new FakeClock();
      const clean = await supervise({ argv: ['true'], clock, restart: { when: 'on-failure' } });
      assert.equal((await clean.done).exitCode, 0);
      assert.equal(clock.timers.length, 0);

      // The binary vanishes between runs: each restart fails to spawn and uses up the budget.
      const dir = mkdtempSync(join(tmpdir(), 'sluice-sup-'));
      const bin = join(dir, 'prog');
      writeFileSync(bin, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      try {
        const child = await supervise({
          argv: [bin],
          clock,
          restart: { maxRestarts: 2, backoffMs: 10 },
        });
        const errors: string[] = [];
        child.on('spawnError', (e) => errors.push(e.code));
        await waitFor(() => clock.timers.length === 1);
        rmSync(bin);
        await clock.fire();
        await clock.fire();
        const info = await child.done;
        assert.deepEqual(errors, ['ERR_SLUICE_SPAWN_NOT_FOUND', 'ERR_SLUICE_SPAWN_NOT_FOUND']);
        assert.equal(info.exitCode, 1);
        assert.equal(child.restarts, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
