/**
 * Stress, checked for leaks — open fds and active handles back where they started (within 5), no
 * zombie, no child left — and, every 100 cycles, that nothing accumulates while it runs:
 * - 1,000 start → natural exit cycles of `true`;
 * - 1,000 start → stop() cycles of `cat`, which ends on EOF (outcome 'eof');
 * - 200 start → stop() cycles of a child that ignores EOF and dies of SIGTERM ('soft');
 * - 200 start → stop() cycles of a child that ignores SIGTERM too, so SIGKILL ends it ('hard').
 * Set SLUICE_STRESS_CYCLES (the first two) or SLUICE_STOP_CYCLES (the last two) to run more or
 * fewer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { childProcesses, countOpenFds, zombieChildren } from '../../src/proc/index.js';
import { type SuperviseConfig, supervise } from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const CYCLES = Number(process.env.SLUICE_STRESS_CYCLES ?? 1000);
const STOP_CYCLES = Number(process.env.SLUICE_STOP_CYCLES ?? 200);
const SLACK = { fdSlack: 5, handleSlack: 5, timeoutMs: 10_000 };

function handles(): number {
  return process.getActiveResourcesInfo().filter((n) => !n.startsWith('FSReq')).length;
}

/** Between cycles nothing may pile up: at most a few fds/handles of the cycle still closing. */
function assertSteady(i: number, fd0: number, h0: number): void {
  const fds = countOpenFds() - fd0;
  const hs = handles() - h0;
  assert.ok(fds <= 5, `cycle ${i}: ${fds} more fds than at the start`);
  assert.ok(hs <= 5, `cycle ${i}: ${hs} more handles than at the start`);
  assert.ok(childProcesses().length <= 1, `cycle ${i}: children pile up`);
}

describe('supervisor: stress', () => {
  test(
    `${CYCLES} cycles of start → natural exit (true) leak nothing`,
    withLeakCheck(async () => {
      const fd0 = countOpenFds();
      const h0 = handles();
      const t0 = performance.now();
      for (let i = 0; i < CYCLES; i++) {
        const child = await supervise({ argv: ['true'] });
        const info = await child.done;
        assert.equal(info.exitCode, 0);
        assert.equal(info.outcome, 'natural');
        if (i % 100 === 99) assertSteady(i, fd0, h0);
      }
      const ms = performance.now() - t0;
      process.stderr.write(`# true: ${CYCLES} cycles in ${ms.toFixed(0)} ms\n`);
      assert.deepEqual(zombieChildren(), []);
    }, SLACK),
  );

  test(
    `${CYCLES} cycles of start → stop() (cat) leak nothing`,
    withLeakCheck(async () => {
      const fd0 = countOpenFds();
      const h0 = handles();
      const t0 = performance.now();
      for (let i = 0; i < CYCLES; i++) {
        // A generous EOF wait: on a loaded machine cat may take a while to be scheduled.
        const child = await supervise({ argv: ['cat'], eofTimeoutMs: 10_000 });
        const info = await child.stop();
        assert.equal(info.outcome, 'eof');
        assert.equal(info.exitCode, 0, 'cat ended on EOF, with no signal');
        if (i % 100 === 99) assertSteady(i, fd0, h0);
      }
      const ms = performance.now() - t0;
      process.stderr.write(`# cat: ${CYCLES} cycles in ${ms.toFixed(0)} ms\n`);
      assert.deepEqual(zombieChildren(), []);
    }, SLACK),
  );

  const signalPaths: [string, SuperviseConfig, NodeJS.Signals, string][] = [
    [
      'a child that ignores EOF and dies of SIGTERM',
      { argv: ['sh', '-c', 'echo ready; exec sleep 1000'], eofTimeoutMs: 5, graceMs: 10_000 },
      'SIGTERM',
      'soft',
    ],
    [
      'a child that ignores EOF and SIGTERM, so SIGKILL ends it',
      {
        argv: ['sh', '-c', 'trap "" TERM; echo ready; exec sleep 1000'],
        eofTimeoutMs: 0,
        graceMs: 10,
      },
      'SIGKILL',
      'hard',
    ],
  ];
  for (const [what, config, signal, outcome] of signalPaths) {
    test(
      `${STOP_CYCLES} cycles of start → stop() of ${what} leak nothing`,
      withLeakCheck(async () => {
        const fd0 = countOpenFds();
        const h0 = handles();
        const t0 = performance.now();
        for (let i = 0; i < STOP_CYCLES; i++) {
          const child = await supervise(config);
          const lines = child.lines();
          // Stop only once the shell has set up its traps and exec'd.
          assert.equal((await lines.next()).value, 'ready');
          const info = await child.stop();
          assert.deepEqual([info.exitCode, info.signal, info.outcome], [null, signal, outcome]);
          assert.equal((await lines.next()).done, true);
          if (i % 100 === 99) assertSteady(i, fd0, h0);
        }
        const ms = performance.now() - t0;
        process.stderr.write(`# ${signal}: ${STOP_CYCLES} cycles in ${ms.toFixed(0)} ms\n`);
        assert.deepEqual(zombieChildren(), []);
      }, SLACK),
    );
  }
});
