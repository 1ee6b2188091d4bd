import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Every process the demo starts inherits SLUICE_DEMO_MARK (the daemon passes its environment to
 * its sessions), so a scan of /proc finds leftovers even after they were re-parented.
 */
function markedProcesses(mark: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(`SLUICE_DEMO_MARK=${mark}`)) {
        out.push(Number(name));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function startDemo(mark: string, args: string[] = []) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--quick', ...args],
    {
      env: { ...process.env, SLUICE_DEMO_MARK: mark, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('cli: sluice demo', () => {
  test(
    'runs every section to the end with exit 0 and leaves nothing behind',
    withLeakCheck(async () => {
      const mark = randomUUID();
      const demo = startDemo(mark);
      const { code } = await demo.exited;
      assert.equal(code, 0, `stdout:\n${demo.out()}\nstderr:\n${demo.err()}`);
      assert.match(demo.out(), /done in [\d.]+ s; nothing left running/);
      assert.match(demo.out(), /no gap, no repeat/);
      assert.match(demo.out(), /outcome 'eof'/);
      assert.match(demo.out(), /outcome hard \(SIGKILL/);
      await waitFor(() => markedProcesses(mark).length === 0, {
        message: `demo processes left: ${markedProcesses(mark).join(', ')}`,
      });
    }),
  );

  // Interrupt points: one in each section, each while that section's work is under way.
  const triggers = [
    { after: '1/5 pipe', processes: true },
    { after: 'run 2: autoRope', processes: false },
    { after: 'started pid', processes: true },
    { after: 'nobody attached', processes: true },
    { after: 'nats-server -js at', processes: true },
  ];
  for (const { after: trigger, processes } of triggers) {
    test(
      `SIGINT after "${trigger}" cleans up and exits 130`,
      withLeakCheck(async () => {
        const mark = randomUUID();
        const demo = startDemo(mark);
        await waitFor(() => demo.out().includes(trigger), {
          timeoutMs: 30_000,
          message: `demo output never showed "${trigger}": ${demo.out()}`,
        });
        if (processes) {
          await waitFor(() => markedProcesses(mark).length > 1, {
            message: 'the section started its processes',
          });
        }
        demo.child.kill('SIGINT');
        const { code } = await demo.exited;
        assert.equal(code, 130, `stdout:\n${demo.out()}\nstderr:\n${demo.err()}`);
        assert.match(demo.out(), /interrupted: cleaning up/);
        await waitFor(() => markedProcesses(mark).length === 0, {
          message: `demo processes left after SIGINT: ${markedProcesses(mark).join(', ')}`,
        });
      }),
    );
  }

  test(
    'even SIGKILLed mid-sessions, the demo leaves no daemon or session behind',
    withLeakCheck(async () => {
      const mark = randomUUID();
      const demo = startDemo(mark, ['--only', 'sessions']);
      await waitFor(() => demo.out().includes('nobody attached'), {
        timeoutMs: 30_000,
        message: `demo output never showed its sessions: ${demo.out()}`,
      });
      assert.ok(markedProcesses(mark).length >= 3, 'demo, daemon and sessions are running');
      demo.child.kill('SIGKILL');
      await demo.exited;
      // No cleanup code of the demo ran: the daemon sees its stdin close and shuts down.
      await waitFor(() => markedProcesses(mark).length === 0, {
        timeoutMs: 15_000,
        message: `left after SIGKILL: ${markedProcesses(mark).join(', ')}`,
      });
    }),
  );
});
