import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  childProcesses,
  descendants,
  InvalidPidError,
  readStat,
  rssAnonBytes,
  terminateGroup,
  treeRss,
} from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;

function exited(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => child.once('exit', resolve));
}

describe('proc: process tree and RSS', () => {
  test(
    'the tree RSS of a child holding 100 MB in a grandchild reads at least 100 MB',
    withLeakCheck(async () => {
      const script =
        "const b = Buffer.alloc(100 * 1024 * 1024, 1); console.log('ready'); setInterval(() => b[0]++, 1e6);";
      // The memory lives in a grandchild, so only a tree sum sees it.
      const child = spawn('sh', ['-c', `"${process.execPath}" -e "${script}"; exit 0`], {
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const done = exited(child);
      await new Promise<void>((r) => child.stdout!.once('data', () => r()));
      const tree = treeRss(child.pid!);
      assert.ok(tree.bytes >= 100 * MB, `tree RSS ${tree.bytes / MB} MB`);
      assert.equal(tree.pids[0], child.pid);
      assert.ok(tree.pids.length >= 2, 'the grandchild is counted');
      assert.ok((rssAnonBytes(child.pid!) ?? 0) < 50 * MB, 'the shell itself is small');
      await terminateGroup(child.pid!, { graceMs: 2000 });
      await done;
    }),
  );

  test('a pid that is gone has an empty tree; a bad pid is a typed error', () => {
    assert.deepEqual(treeRss(4_000_000), { bytes: 0, peakBytes: 0, pids: [] });
    assert.throws(() => treeRss(0), InvalidPidError);
    assert.throws(() => treeRss(-1), InvalidPidError);
  });

  test(
    'children, descendants and zombies are listed from /proc',
    withLeakCheck(async () => {
      // `sleep 0` exits at once and its parent execs into `sleep 100`, which never reaps it.
      const child = spawn('sh', ['-c', 'sleep 0 & exec sleep 100'], {
        detached: true,
        stdio: 'ignore',
      });
      const done = exited(child);
      const pid = child.pid!;
      assert.ok(childProcesses().some((c) => c.pid === pid));
      const zombie = await waitFor(() => descendants(pid).find((p) => p.state === 'Z'), {
        message: 'an unreaped grandchild',
      });
      assert.equal(zombie.ppid, pid);
      assert.equal(readStat(pid)?.comm, 'sleep');
      assert.equal(readStat(pid)?.pgrp, pid, 'detached children lead their own group');
      await terminateGroup(pid, { graceMs: 2000 });
      await done;
      assert.ok(!childProcesses().some((c) => c.pid === pid), 'reaped');
    }),
  );
});
