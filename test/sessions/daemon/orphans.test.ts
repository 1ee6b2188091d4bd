/**
 * A session's double-forked grandchild (`setsid` in a subshell that exits: re-parented, in its own
 * session and group) comes back to the daemon, which is a child subreaper, and is ended with its
 * session: on `stop`, and on the daemon's shutdown. One that exits on its own is reaped, never
 * left a zombie.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { listProcesses } from '../../../src/proc/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { alive, startDaemon } from '../daemon-harness.js';

const linux = process.platform === 'linux';

/** A session whose grandchild escapes: its pid lands in `file`; then the session waits. */
function escaping(file: string, lifetime = '300'): string[] {
  return ['sh', '-c', `(setsid sleep ${lifetime} & echo $! > ${file}); echo ready; exec sleep 300`];
}

async function grandchildPid(file: string): Promise<number> {
  return waitFor(() => {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  });
}

describe('orphans of sessions', {
  skip: linux ? false : 'child subreapers are a Linux feature',
}, () => {
  test(
    'stop ends a double-forked grandchild with its session',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const file = join(d.dir, 'gc.pid');
        const s = await c.spawn({ argv: escaping(file) });
        const gc = await grandchildPid(file);
        assert.ok(alive(gc));
        await waitFor(() => listProcesses().find((p) => p.pid === gc)?.ppid === d.child.pid, {
          message: 'the grandchild to be re-parented to the daemon',
        });
        await c.terminate(s.id, { graceMs: 1000 });
        await waitFor(() => !alive(gc), { message: 'the grandchild to be ended' });
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'daemon shutdown ends a double-forked grandchild',
    withLeakCheck(async () => {
      const d = await startDaemon();
      let gc = 0;
      try {
        const c = await d.client();
        const file = join(d.dir, 'gc.pid');
        await c.spawn({ argv: escaping(file) });
        gc = await grandchildPid(file);
        assert.ok(alive(gc));
      } finally {
        await d.stop();
      }
      assert.equal(alive(gc), false, 'the grandchild did not outlive the daemon');
    }),
  );

  test(
    'an adopted grandchild that exits on its own is reaped, not left a zombie',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const file = join(d.dir, 'gc.pid');
        const s = await c.spawn({ argv: escaping(file, '0.2') });
        const gc = await grandchildPid(file);
        await waitFor(() => !listProcesses().some((p) => p.pid === gc), {
          timeoutMs: 10_000,
          message: 'the exited grandchild to be reaped',
        });
        assert.equal((await c.get(s.id)).state, 'running', 'the session itself is untouched');
      } finally {
        await d.stop();
      }
    }),
  );
});
