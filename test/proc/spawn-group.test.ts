import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  createPipe,
  type GroupProcess,
  groupMembers,
  InvalidOptionError,
  readStat,
  SpawnError,
  spawnGroup,
} from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

function readAll(s: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
    });
    s.once('end', () => resolve(buf));
    s.once('close', () => resolve(buf));
    s.once('error', reject);
  });
}

function firstLine(s: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const on = (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.off('data', on);
        resolve(buf.slice(0, nl));
      }
    };
    s.on('data', on);
    s.once('end', () => reject(new Error(`ended before a line: ${buf}`)));
  });
}

async function rejectsInvalid(p: Promise<unknown>, option: string): Promise<void> {
  const e = await p.then(
    () => assert.fail(`expected an InvalidOptionError for ${option}`),
    (x: unknown) => x,
  );
  assert.ok(e instanceof InvalidOptionError, `not an InvalidOptionError: ${String(e)}`);
  assert.equal(e.code, 'ERR_SLUICE_INVALID_OPTION');
  assert.equal(e.option, option, e.message);
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<SpawnError> {
  const e = await p.then(
    () => assert.fail(`expected ${code}`),
    (x: unknown) => x,
  );
  assert.ok(e instanceof SpawnError, `not a SpawnError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  return e;
}

describe('proc: spawnGroup, the process core', () => {
  test(
    'runs in its own group, pipes stdio, reaps, reports a natural exit',
    withLeakCheck(async () => {
      const p = await spawnGroup({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
      assert.ok(p.pid > 1);
      const [out, err, info] = await Promise.all([
        readAll(p.stdout!),
        readAll(p.stderr!),
        p.exited,
      ]);
      assert.equal(out, 'out\n');
      assert.equal(err, 'err\n');
      assert.equal(info.exitCode, 3);
      assert.equal(info.signal, null);
      assert.equal(info.outcome, 'natural');
      assert.equal(p.exitInfo, info);
      await p.closed;
    }),
  );

  test(
    'env is laid over the parent environment; undefined removes a key; cwd is used',
    withLeakCheck(async () => {
      process.env.SLUICE_TEST_KEEP = 'kept';
      process.env.SLUICE_TEST_DROP = 'dropped';
      try {
        const p = await spawnGroup({
          argv: [
            'sh',
            '-c',
            'echo "$SLUICE_TEST_KEEP,$(printenv SLUICE_TEST_DROP || echo unset),$NEW,$(pwd)"',
          ],
          env: { NEW: 'new', SLUICE_TEST_DROP: undefined },
          cwd: '/tmp',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        assert.equal(p.stdin, null);
        assert.equal(p.stderr, null);
        assert.equal(await readAll(p.stdout!), 'kept,unset,new,/tmp\n');
        await p.exited;
      } finally {
        delete process.env.SLUICE_TEST_KEEP;
        delete process.env.SLUICE_TEST_DROP;
      }
    }),
  );

  test(
    "stderr 'stdout' merges both onto one real pipe in write order",
    withLeakCheck(async () => {
      const p = await spawnGroup({
        argv: ['sh', '-c', 'echo a; echo b >&2; echo c; ls -l /proc/self/fd/1 /proc/self/fd/2'],
        stdio: ['ignore', 'pipe', 'stdout'],
      });
      assert.equal(p.stderr, null);
      const out = await readAll(p.stdout!);
      assert.match(out, /^a\nb\nc\n/);
      assert.match(out, /fd\/1 -> pipe:/);
      assert.match(out, /fd\/2 -> pipe:/);
      await p.exited;
      await p.closed;
    }),
  );

  test(
    'a caller fd is passed through and stays the caller’s',
    withLeakCheck(async () => {
      const pipe = createPipe();
      try {
        const p = await spawnGroup({
          argv: ['echo', 'hi'],
          stdio: ['ignore', pipe.writeFd, 'ignore'],
        });
        assert.equal(p.stdout, null);
        assert.equal((await p.exited).exitCode, 0);
      } finally {
        pipe.close();
      }
    }),
  );

  test(
    'bad input rejects with a typed error and leaves nothing behind',
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-sup-'));
      try {
        const file = join(dir, 'file');
        writeFileSync(file, 'not a program\n');
        chmodSync(file, 0o644);
        await rejectsInvalid(spawnGroup({ argv: [] }), 'argv');
        await rejectsInvalid(spawnGroup({ argv: [''] }), 'argv');
        const nf = await rejectsWith(
          spawnGroup({ argv: ['sluice-no-such-binary-xyz'] }),
          'ERR_SLUICE_SPAWN_NOT_FOUND',
        );
        assert.equal(nf.errno, 'ENOENT');
        assert.match(nf.message, /command not found: sluice-no-such-binary-xyz/);
        await rejectsWith(
          spawnGroup({ argv: [join(dir, 'missing')] }),
          'ERR_SLUICE_SPAWN_NOT_FOUND',
        );
        await rejectsWith(spawnGroup({ argv: [file] }), 'ERR_SLUICE_SPAWN_PERMISSION');
        await rejectsWith(spawnGroup({ argv: [dir] }), 'ERR_SLUICE_SPAWN_PERMISSION');
        const cwd = await rejectsWith(
          spawnGroup({ argv: ['true'], cwd: join(dir, 'nope') }),
          'ERR_SLUICE_SPAWN_BAD_CWD',
        );
        assert.equal(cwd.errno, 'ENOENT');
        await rejectsWith(spawnGroup({ argv: ['true'], cwd: file }), 'ERR_SLUICE_SPAWN_BAD_CWD');
        await rejectsInvalid(spawnGroup({ argv: ['true', 'a\0b'] }), 'argv[1]');
        await rejectsInvalid(spawnGroup({ argv: ['true', 3 as unknown as string] }), 'argv[1]');
        await rejectsInvalid(
          spawnGroup({ argv: ['true'], stdio: ['pipe', 'pipe', 'bogus' as 'pipe'] }),
          'stdio[2]',
        );
        await rejectsInvalid(
          spawnGroup({ argv: ['true'], stdio: ['pipe', 'ignore', 'stdout'] }),
          'stdio[2]',
        );
        await rejectsInvalid(spawnGroup({ argv: ['true'], env: { 'A=B': 'x' } }), 'env');
        await rejectsInvalid(spawnGroup({ argv: ['true'], env: { A: 'x\0y' } }), 'env.A');
        // A missing binary with a merged pipe closes the pipe it made.
        await rejectsWith(
          spawnGroup({ argv: ['sluice-no-such-binary-xyz'], stdio: ['pipe', 'pipe', 'stdout'] }),
          'ERR_SLUICE_SPAWN_NOT_FOUND',
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'terminate: a child that ignores SIGTERM is SIGKILLed after the grace and reported hard',
    withLeakCheck(async () => {
      const p = await spawnGroup({
        argv: ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'],
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      assert.equal(await firstLine(p.stdout!), 'ready');
      p.stdout!.resume();
      const t0 = performance.now();
      const info = await p.terminate({ graceMs: 300 });
      const took = performance.now() - t0;
      assert.ok(took >= 290, `SIGKILL came after ${took} ms, before the grace ran out`);
      assert.equal(info.outcome, 'hard');
      assert.equal(info.signal, 'SIGKILL');
      assert.equal(groupMembers(p.pid, { includeZombies: false }).length, 0);
    }),
  );

  test(
    "terminate with an EOF step: a child that exits on EOF never sees a signal and reads 'eof'",
    withLeakCheck(async () => {
      const p = await spawnGroup({ argv: ['cat'] });
      const t0 = performance.now();
      const info = await p.terminate({ eofTimeoutMs: 5000, graceMs: 5000 });
      assert.ok(performance.now() - t0 < 2000);
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [0, null, 'eof']);
    }),
  );

  test(
    "a child that exits 0 from its SIGTERM handler reads 'soft', not 'eof'",
    withLeakCheck(async () => {
      // Ignores EOF (reads nothing), exits 0 on TERM.
      const p = await spawnGroup({
        argv: ['sh', '-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'],
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      assert.equal(await firstLine(p.stdout!), 'ready');
      p.stdout!.resume();
      const info = await p.terminate({ eofTimeoutMs: 100, graceMs: 10_000 });
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [0, null, 'soft']);
    }),
  );

  test(
    'graceMs 0 sends SIGKILL at once, with no soft signal',
    withLeakCheck(async () => {
      const p = await spawnGroup({
        argv: ['sh', '-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'],
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      assert.equal(await firstLine(p.stdout!), 'ready');
      p.stdout!.resume();
      const info = await p.terminate({ graceMs: 0 });
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [null, 'SIGKILL', 'hard']);
    }),
  );

  test(
    'terminate is idempotent and concurrent calls share one outcome; abort escalates',
    withLeakCheck(async () => {
      const p = await spawnGroup({
        argv: ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'],
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      assert.equal(await firstLine(p.stdout!), 'ready');
      p.stdout!.resume();
      assert.throws(() => p.terminate({ graceMs: -1 }), InvalidOptionError);
      assert.throws(() => p.terminate({ eofTimeoutMs: Number.NaN }), InvalidOptionError);
      assert.throws(() => p.terminate({ softSignal: 'SIGNOPE' as 'SIGTERM' }), InvalidOptionError);
      assert.equal(p.stopping, false, 'a refused terminate changes nothing');
      const first = p.terminate({ graceMs: 60_000 });
      const ac = new AbortController();
      const second = p.terminate({ graceMs: 1, signal: ac.signal });
      assert.equal(first, second);
      await waitFor(() => p.stopping);
      ac.abort();
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a, b);
      assert.equal(a.outcome, 'hard');
      assert.equal(await p.terminate(), a);
    }),
  );

  test(
    'terminate after a natural exit sweeps grandchildren left in the group',
    withLeakCheck(async () => {
      const p = await spawnGroup({
        argv: ['sh', '-c', 'sleep 100 & sleep 100 & echo started'],
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      // The sleeps hold stdout open: it must still close after the drain window.
      const info = await p.exited;
      assert.equal(info.outcome, 'natural');
      await p.closed;
      assert.equal(groupMembers(p.pid, { includeZombies: false }).length, 2);
      const again = await p.terminate({ graceMs: 2000 });
      assert.equal(again, info);
      assert.equal(groupMembers(p.pid, { includeZombies: false }).length, 0);
    }),
  );

  test(
    'terminate ends every grandchild of a running child',
    withLeakCheck(async () => {
      const p = await spawnGroup({
        argv: ['sh', '-c', 'sleep 100 & sleep 100 & (sleep 100 &); echo ready; wait'],
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      assert.equal(await firstLine(p.stdout!), 'ready');
      p.stdout!.resume();
      await waitFor(() => groupMembers(p.pid).filter((m) => m.comm === 'sleep').length === 3);
      const info = await p.terminate({ graceMs: 2000 });
      assert.equal(info.outcome, 'soft');
      assert.equal(info.signal, 'SIGTERM');
      assert.equal(groupMembers(p.pid, { includeZombies: false }).length, 0);
    }),
  );

  test(
    'a slow reader keeps its unread output after the exit (never cut by the drain window)',
    withLeakCheck(async () => {
      const p: GroupProcess = await spawnGroup({
        argv: ['head', '-c', '100000', '/dev/zero'],
        stdio: ['ignore', 'pipe', 'ignore'],
        drainMs: 5,
      });
      const it = p.stdout![Symbol.asyncIterator]();
      let total = ((await it.next()).value as Buffer).length;
      await p.exited;
      // Nothing may happen here, so this one wait is on time: forty drain windows pass.
      await delay(200);
      assert.equal(p.stdout!.destroyed, false);
      for (let r = await it.next(); !r.done; r = await it.next())
        total += (r.value as Buffer).length;
      assert.equal(total, 100000);
      await p.closed;
    }),
  );

  test(
    'asyncDispose terminates and closes',
    withLeakCheck(async () => {
      let pid = 0;
      {
        await using p = await spawnGroup({
          argv: ['sleep', '100'],
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        pid = p.pid;
      }
      assert.equal(groupMembers(pid, { includeZombies: false }).length, 0);
    }),
  );
});

describe('supervisor: process core, when this process exits', () => {
  test(
    'groups still running are SIGKILLed when their parent exits, unless killOnParentExit is off',
    withLeakCheck(async () => {
      const fixture = fileURLToPath(new URL('./fixtures/parent-exit.ts', import.meta.url));
      const p = await spawnGroup({
        argv: [process.execPath, '--import', 'tsx', fixture],
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const out = await readAll(p.stdout!);
      assert.equal((await p.exited).exitCode, 0);
      const [killed, kept] = out.trim().split(' ').map(Number) as [number, number];
      try {
        // Gone, or a zombie waiting for init to reap it.
        await waitFor(() => (readStat(killed)?.state ?? 'Z') === 'Z', { message: 'killed' });
        assert.equal(readStat(kept)?.comm, 'sleep', 'the one with killOnParentExit: false runs');
      } finally {
        for (const pid of [killed, kept]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }),
  );
});
