/**
 * The seed's two stress tests, made stronger: 1,000 start → natural exit cycles of `true` and
 * 1,000 start → stop() cycles of `cat`, in sequence, checked for leaks — open fds and active
 * handles back where they started (within 5), no zombie, no child left — and, every 100 cycles,
 * that nothing accumulates while it runs. Set SLUICE_STRESS_CYCLES to run more or fewer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { childProcesses, countOpenFds, zombieChildren } from '../../src/proc/index.js';
import { supervise } from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const CYCLES = Number(process.env.SLUICE_STRESS_CYCLES ?? 1000);
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
});
