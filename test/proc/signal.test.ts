import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  groupAlive,
  groupMembers,
  InvalidPidError,
  NoSuchProcessError,
  ownProcessGroup,
  signalGroup,
  signalProcess,
  terminateGroup,
} from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', () => reject(new Error(`exited before a line: ${buf}`)));
  });
}

/** A pid that names no process: above pid_max. */
function unusedPid(): number {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1000;
}

describe('proc: signals', () => {
  test(
    'terminating a group ends the child and its grandchildren',
    withLeakCheck(async () => {
      const child = spawn('sh', ['-c', 'sleep 100 & sleep 100'], {
        detached: true,
        stdio: 'ignore',
      });
      const done = exited(child);
      const pgid = child.pid!;
      await waitFor(() => groupMembers(pgid).filter((p) => p.comm === 'sleep').length === 2, {
        message: 'two sleeps in the group',
      });
      assert.equal(await terminateGroup(pgid, { graceMs: 2000 }), 'soft');
      assert.equal(groupAlive(pgid), false);
      assert.equal(groupMembers(pgid, { includeZombies: false }).length, 0);
      assert.equal((await done).signal, 'SIGTERM');
    }),
  );

  test(
    'a child that ignores SIGTERM is killed after the grace period',
    withLeakCheck(async () => {
      const child = spawn('sh', ['-c', 'trap "" TERM; echo ready; exec sleep 100'], {
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const done = exited(child);
      assert.equal(await firstLine(child), 'ready');
      const t0 = performance.now();
      assert.equal(await terminateGroup(child.pid!, { graceMs: 300 }), 'hard');
      const took = performance.now() - t0;
      assert.ok(took >= 300, `escalated after ${took} ms, before the grace ran out`);
      assert.equal((await done).signal, 'SIGKILL');
    }),
  );

  test(
    'aborting the signal escalates to SIGKILL at once',
    withLeakCheck(async () => {
      const child = spawn('sh', ['-c', 'trap "" TERM; echo ready; exec sleep 100'], {
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const done = exited(child);
      await firstLine(child);
      const ac = new AbortController();
      const t0 = performance.now();
      const outcome = terminateGroup(child.pid!, { graceMs: 60_000, signal: ac.signal });
      ac.abort();
      assert.equal(await outcome, 'hard');
      assert.ok(performance.now() - t0 < 5000);
      assert.equal((await done).signal, 'SIGKILL');
    }),
  );

  test(
    'a group that is already gone is reported as gone, with no signal',
    withLeakCheck(async () => {
      const child = spawn('true', [], { detached: true, stdio: 'ignore' });
      await exited(child);
      assert.equal(await terminateGroup(child.pid!), 'gone');
    }),
  );

  test('bad pids are typed errors and never reach kill()', (t) => {
    const kill = t.mock.method(process, 'kill');
    const bad: unknown[] = [0, -1, -5, 1, 1.5, Number.NaN, Infinity, '12', process.pid];
    const own = ownProcessGroup();
    if (own !== undefined) bad.push(own);
    for (const pid of bad) {
      assert.throws(() => signalGroup(pid as number, 'SIGTERM'), InvalidPidError, String(pid));
      assert.throws(() => groupAlive(pid as number), InvalidPidError);
    }
    for (const pid of [0, -1, 1, 2.5, process.pid]) {
      assert.throws(() => signalProcess(pid, 'SIGTERM'), InvalidPidError, String(pid));
    }
    assert.equal(kill.mock.callCount(), 0);
  });

  test('bad pids reject terminateGroup', async () => {
    await assert.rejects(terminateGroup(0), InvalidPidError);
    await assert.rejects(terminateGroup(-1), InvalidPidError);
  });

  test('a pid that does not exist is a typed error', () => {
    const pid = unusedPid();
    assert.throws(() => signalProcess(pid, 'SIGTERM'), NoSuchProcessError);
    assert.throws(() => signalGroup(pid, 'SIGTERM'), NoSuchProcessError);
    assert.equal(groupAlive(pid), false);
  });
});
