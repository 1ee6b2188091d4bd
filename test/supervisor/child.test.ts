import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { groupMembers, readStat } from '../../src/proc/index.js';
import {
  type Child,
  InvalidOptionError,
  SpawnError,
  SupervisorError,
  supervise,
} from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

/** A shell child that ignores SIGTERM and EOF, and says so before the test stops it. */
const STUBBORN = ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'];

async function firstLine(child: Child): Promise<{ line: string; rest: AsyncIterator<string> }> {
  const it = child.lines();
  const r = await it.next();
  assert.equal(r.done, false, 'stdout ended before a line');
  return { line: r.value, rest: it };
}

async function drain(it: AsyncIterator<string>): Promise<string[]> {
  const out: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
  return out;
}

async function rejectsCode(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => Error,
  code: string,
): Promise<void> {
  const e = await p.then(
    () => assert.fail(`expected ${code}`),
    (x: unknown) => x,
  );
  assert.ok(e instanceof cls, `wrong class: ${String(e)}`);
  assert.equal((e as unknown as { code: string }).code, code, (e as Error).message);
}

describe('supervisor: supervise() and Child', () => {
  test(
    'lines() reads stdout line by line across CRLF and a missing last newline; done reports it',
    withLeakCheck(async () => {
      const child = await supervise({ argv: ['printf', 'a\\nb\\r\\n\\nlast'] });
      assert.ok(child.pid > 1);
      assert.deepEqual(await drain(child.lines()), ['a', 'b', '', 'last']);
      const info = await child.done;
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [0, null, 'natural']);
      assert.equal(child.exitInfo, info);
      assert.equal(child.running, false);
    }),
  );

  test(
    'send() and messages() frame newline-delimited JSON; bad lines are reported, not thrown',
    withLeakCheck(async () => {
      const reported: string[] = [];
      const child = await supervise({
        argv: ['cat'],
        onParseError: (line) => reported.push(line),
      });
      const events: string[] = [];
      child.on('parseError', (line) => events.push(line));
      await child.send({ id: 1, text: 'multi\nline ✓' });
      child.stdin.write('not json\n\n');
      await child.send([2, null]);
      const got: unknown[] = [];
      for await (const m of child.messages()) {
        got.push(m);
        if (got.length === 2) break;
      }
      assert.deepEqual(got, [{ id: 1, text: 'multi\nline ✓' }, [2, null]]);
      assert.deepEqual(reported, ['not json']);
      assert.deepEqual(events, ['not json']);
      await rejectsCode(
        child.send(undefined),
        SupervisorError,
        'ERR_SLUICE_SUPERVISOR_NOT_SERIALIZABLE',
      );
      const loop: Record<string, unknown> = {};
      loop.self = loop;
      await rejectsCode(
        child.send(loop),
        SupervisorError,
        'ERR_SLUICE_SUPERVISOR_NOT_SERIALIZABLE',
      );
      assert.throws(() => child.lines(), { code: 'ERR_SLUICE_SUPERVISOR_STDOUT_TAKEN' });
      const info = await child.stop();
      assert.equal(info.outcome, 'eof');
      await rejectsCode(child.send({}), SupervisorError, 'ERR_SLUICE_SUPERVISOR_NOT_RUNNING');
    }),
  );

  test(
    'stderr goes line by line to onStderr; env is laid over the parent; cwd is used',
    withLeakCheck(async () => {
      process.env.SLUICE_SUP_BASE = 'base';
      try {
        const lines: string[] = [];
        const child = await supervise({
          argv: ['sh', '-c', 'echo "$SLUICE_SUP_BASE $SLUICE_SUP_X $(pwd)" >&2; echo e2 >&2'],
          env: { SLUICE_SUP_X: 'x' },
          cwd: '/',
          onStderr: (l) => lines.push(l),
        });
        await child.done;
        await waitFor(() => lines.length === 2);
        assert.deepEqual(lines, ['base x /', 'e2']);
      } finally {
        delete process.env.SLUICE_SUP_BASE;
      }
    }),
  );

  test(
    'stderr is drained without a callback, so a chatty child never blocks',
    withLeakCheck(async () => {
      // 2 MB of stderr: far past any pipe buffer.
      const child = await supervise({
        argv: ['sh', '-c', 'head -c 2000000 /dev/zero | tr "\\0" "x" >&2; echo done'],
      });
      const { line } = await firstLine(child);
      assert.equal(line, 'done');
      assert.equal((await child.done).exitCode, 0);
    }),
  );

  test(
    'stop(): a child that exits on EOF is stopped without waiting for the grace period',
    withLeakCheck(async () => {
      const child = await supervise({ argv: ['cat'], graceMs: 60_000, eofTimeoutMs: 30_000 });
      const t0 = performance.now();
      const info = await child.stop();
      const took = performance.now() - t0;
      assert.ok(took < 15_000, `took ${took} ms`);
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [0, null, 'eof']);
    }),
  );

  test(
    'stop(): a child that ignores SIGTERM is SIGKILLed after the grace and reported killed',
    withLeakCheck(async () => {
      const child = await supervise({ argv: STUBBORN, graceMs: 300, eofTimeoutMs: 50 });
      const { line, rest } = await firstLine(child);
      assert.equal(line, 'ready');
      const t0 = performance.now();
      const info = await child.stop();
      const took = performance.now() - t0;
      assert.ok(took >= 290, `killed after ${took} ms, before the grace ran out`);
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [null, 'SIGKILL', 'hard']);
      assert.deepEqual(await drain(rest), []);
    }),
  );

  test(
    'stop(): a child that forks grandchildren loses them all',
    withLeakCheck(async () => {
      const child = await supervise({
        argv: ['sh', '-c', 'sleep 100 & sleep 100 & (sleep 100 &); echo ready; wait'],
      });
      const { line, rest } = await firstLine(child);
      assert.equal(line, 'ready');
      const pgid = child.pid;
      await waitFor(() => groupMembers(pgid).filter((p) => p.comm === 'sleep').length === 3);
      const sleeps = groupMembers(pgid).filter((p) => p.comm === 'sleep');
      const info = await child.stop();
      assert.equal(info.outcome, 'soft');
      assert.equal(info.signal, 'SIGTERM');
      // Gone, or a zombie waiting for init to reap it: none runs.
      for (const s of sleeps) assert.equal(readStat(s.pid)?.state ?? 'Z', 'Z');
      assert.equal(groupMembers(pgid, { includeZombies: false }).length, 0);
      await drain(rest);
    }),
  );

  test(
    'stop() is idempotent and concurrent; an aborted signal escalates at once',
    withLeakCheck(async () => {
      const child = await supervise({ argv: STUBBORN, graceMs: 60_000, eofTimeoutMs: 10 });
      const { rest } = await firstLine(child);
      const exits: string[] = [];
      child.on('exit', (i, again) => exits.push(`${i.outcome}/${again}`));
      const a = child.stop();
      const ac = new AbortController();
      const b = child.stop({ signal: ac.signal });
      const t0 = performance.now();
      ac.abort();
      const [ia, ib] = await Promise.all([a, b]);
      assert.ok(performance.now() - t0 < 10_000);
      assert.equal(ia, ib);
      assert.equal(ia.outcome, 'hard');
      assert.equal(await child.stop(), ia);
      assert.equal(await child.done, ia);
      assert.deepEqual(exits, ['hard/false']);
      await drain(rest);
    }),
  );

  test(
    'stop() with an already aborted signal SIGKILLs without a grace',
    withLeakCheck(async () => {
      const child = await supervise({ argv: STUBBORN, graceMs: 60_000 });
      const { rest } = await firstLine(child);
      await rejectsCode(
        child.stop({ graceMs: -1 }),
        InvalidOptionError,
        'ERR_SLUICE_INVALID_OPTION',
      );
      assert.equal(child.running, true, 'a refused stop changes nothing');
      const info = await child.stop({ signal: AbortSignal.abort() });
      assert.equal(info.outcome, 'hard');
      await drain(rest);
    }),
  );

  test(
    'config.signal: aborting stops the child gracefully; an aborted one starts nothing',
    withLeakCheck(async () => {
      const ac = new AbortController();
      const child = await supervise({ argv: ['cat'], signal: ac.signal, eofTimeoutMs: 10_000 });
      assert.equal(child.running, true);
      ac.abort();
      const info = await child.done;
      assert.deepEqual([info.exitCode, info.outcome], [0, 'eof']);
      const reason = new Error('cancelled before start');
      const e = await supervise({ argv: ['cat'], signal: AbortSignal.abort(reason) }).catch(
        (x: unknown) => x,
      );
      assert.equal(e, reason);
    }),
  );

  test(
    'await using stops the child',
    withLeakCheck(async () => {
      let pid = 0;
      {
        await using child = await supervise({ argv: ['sleep', '100'], eofTimeoutMs: 0 });
        pid = child.pid;
        assert.equal(child.running, true);
      }
      assert.equal(groupMembers(pid, { includeZombies: false }).length, 0);
    }),
  );

  test(
    'late EOF: a grandchild outside the group holding stdout does not keep handles alive',
    withLeakCheck(async () => {
      const child = await supervise({ argv: ['sh', '-c', 'setsid sleep 30 & echo $!'] });
      const { line, rest } = await firstLine(child);
      const orphan = Number(line);
      try {
        assert.equal((await child.done).outcome, 'natural');
        // The orphan still holds the pipe; lines() ends anyway once the drain window passes.
        assert.deepEqual(await drain(rest), []);
        assert.notEqual(readStat(orphan), undefined, 'the escaped grandchild still runs');
      } finally {
        process.kill(orphan, 'SIGKILL');
      }
    }),
  );

  test(
    'bad input: typed errors, nothing left behind',
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-sup-'));
      try {
        await rejectsCode(supervise({ argv: [] }), InvalidOptionError, 'ERR_SLUICE_INVALID_OPTION');
        await rejectsCode(
          supervise({} as unknown as { argv: string[] }),
          InvalidOptionError,
          'ERR_SLUICE_INVALID_OPTION',
        );
        await rejectsCode(
          supervise({ argv: ['cat'], maxQueueBytes: 0 }),
          InvalidOptionError,
          'ERR_SLUICE_INVALID_OPTION',
        );
        await rejectsCode(
          supervise({ argv: ['cat'], onStderrBytes: 'no' as unknown as () => void }),
          InvalidOptionError,
          'ERR_SLUICE_INVALID_OPTION',
        );
        await rejectsCode(
          supervise({ argv: ['sluice-no-such-binary-xyz'] }),
          SpawnError,
          'ERR_SLUICE_SPAWN_NOT_FOUND',
        );
        await rejectsCode(
          supervise({ argv: ['cat'], cwd: join(dir, 'missing') }),
          SpawnError,
          'ERR_SLUICE_SPAWN_BAD_CWD',
        );
        await rejectsCode(
          supervise({ argv: ['cat'], graceMs: -1 }),
          InvalidOptionError,
          'ERR_SLUICE_INVALID_OPTION',
        );
        await rejectsCode(
          supervise({ argv: ['cat'], restart: { maxRestarts: -2 } }),
          InvalidOptionError,
          'ERR_SLUICE_INVALID_OPTION',
        );
        await rejectsCode(
          supervise(null as unknown as { argv: string[] }),
          InvalidOptionError,
          'ERR_SLUICE_INVALID_OPTION',
        );
        const e = await supervise({ argv: ['sluice-no-such-binary-xyz', '-v'] }).catch((x) => x);
        assert.equal(e.message, 'command not found: sluice-no-such-binary-xyz');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
