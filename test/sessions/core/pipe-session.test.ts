import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AlreadyAttachedError,
  InvalidOptionError,
  NotAPtyError,
  SessionExitedError,
  SessionRegistry,
  SpawnError,
  StdinClosedError,
  StreamUnavailableError,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { allFrames, isGone, outputOf, waitForText } from '../lib-helpers.js';

/** A child that prints a line every 10 ms until stdin closes or it is signalled. */
const TICKER = [
  'sh',
  '-c',
  'i=0; while [ $i -lt 100000 ]; do echo "tick $i"; i=$((i+1)); sleep 0.01; done',
];

describe('pipe sessions', () => {
  it(
    'accumulates output while nobody is attached and replays it on attach, byte for byte',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'printf "one\\r\\ntwo"; printf "err\\n" >&2; read x; echo "got $x"'],
        });
        assert.equal(s.kind, 'pipe');
        assert.ok(s.pid > 0);
        await waitForText(s, 'two');
        await waitForText(s, 'err', 'stderr');
        const out = s.attach('stdout');
        assert.equal(
          out.backlog.toString(),
          'one\r\ntwo',
          'kept as written: \\r\\n, no added newline',
        );
        const err = s.attach('stderr');
        assert.equal(err.backlog.toString(), 'err\n');
        await s.writeStdin('hello\n');
        const frames = await allFrames(out);
        assert.equal(outputOf(frames).toString(), 'got hello\n');
        assert.deepEqual(
          frames.slice(-2).map((f) => f.type),
          ['eof', 'exit'],
        );
        await err.detach();
        assert.deepEqual(s.exitInfo, { exitCode: 0, signal: null, outcome: 'natural' });
        assert.ok(s.exitedAt !== null && s.exitedAt <= Date.now());
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'detach and re-attach by offset: nothing lost, nothing repeated; snapshot does not consume',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({ argv: TICKER });
        const parts: Buffer[] = [];
        let a = s.attach();
        parts.push(a.backlog);
        for (let round = 0; round < 4; round++) {
          const before = a.position;
          await waitFor(() => s.snapshot().end > before + 20);
          for (let f = a.read(); f; f = a.read()) if (f.type === 'output') parts.push(f.data);
          const at = a.position;
          void a.detach();
          await waitFor(() => s.snapshot().end > at + 20); // output flows while detached
          const snap1 = s.snapshot();
          const snap2 = s.snapshot();
          assert.ok(snap2.data.subarray(0, snap1.data.length).equals(snap1.data));
          a = s.attach('stdout', { fromOffset: at });
          assert.equal(a.backlogOffset, at);
          parts.push(a.backlog);
        }
        const end = a.position;
        void a.detach();
        const all = Buffer.concat(parts).toString();
        assert.equal(all, s.snapshot().data.subarray(0, end).toString());
        const lines = all.trimEnd().split('\n');
        for (const [i, l] of lines.entries()) assert.equal(l, `tick ${i}`);
        assert.equal(s.snapshot().missedBytes, 0);
      } finally {
        await reg.shutdown({ graceMs: 0 });
      }
    }),
  );

  it(
    'steal: the evicted writer is told; read-only viewers watch beside the writer',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({ argv: ['cat'] });
        const writer = s.attach();
        const viewers = [
          s.attach('stdout', { readOnly: true }),
          s.attach('stdout', { readOnly: true }),
        ];
        assert.throws(() => s.attach(), AlreadyAttachedError);
        await writer.write('first\n');
        await waitForText(s, 'first');
        const thief = s.attach('stdout', { steal: true });
        const evicted = await allFrames(writer);
        assert.equal(outputOf(evicted).toString(), 'first\n');
        assert.equal(evicted.at(-1)?.type, 'stolen');
        await thief.write('second\n');
        await thief.closeStdin();
        const [tf, v0, v1] = await Promise.all([thief, ...viewers].map(allFrames));
        assert.equal(outputOf(tf!).toString(), 'second\n');
        assert.equal(outputOf(v0!).toString(), 'first\nsecond\n');
        assert.equal(outputOf(v1!).toString(), 'first\nsecond\n');
        // It ended on the EOF the thief sent: outcome 'eof', not 'natural'.
        assert.equal((await s.exited).outcome, 'eof');
        assert.equal(s.info().attachments.stdout?.writer, false);
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'stdin: writes arrive in order, close gives EOF, and writing after close is a typed error',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({ argv: ['wc', '-c'] });
        const big = Buffer.alloc(300_000, 120); // more than a pipe holds: the write must wait
        assert.equal(await s.writeStdin(big), 300_000);
        assert.equal(await s.writeStdin('abc', { close: true }), 3);
        assert.equal(s.stdinClosed, true);
        await assert.rejects(s.writeStdin('more'), StdinClosedError);
        await s.exited;
        assert.equal(s.snapshot().data.toString().trim(), '300003');
        await assert.rejects(s.writeStdin('late'), SessionExitedError);
        await assert.rejects(s.writeStdin(42 as unknown as string), InvalidOptionError);
        assert.throws(() => s.resize(10, 10), NotAPtyError);
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'merged stderr: one stream in write order; asking for stderr is a typed error',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'],
          mergeStderr: true,
        });
        await s.exited;
        assert.equal(s.snapshot().data.toString(), 'out1\nerr1\nout2\nerr2\n');
        assert.deepEqual(s.streams, ['stdout']);
        assert.throws(() => s.attach('stderr'), StreamUnavailableError);
        assert.throws(() => s.snapshot('stderr'), StreamUnavailableError);
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'terminate: a polite child ends soft, and the call returns before the child is gone',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({ argv: ['sleep', '1000'] });
        const t0 = performance.now();
        const pending = s.terminate({ graceMs: 30_000 });
        assert.ok(performance.now() - t0 < 200, 'terminate returns at once');
        const state = await pending;
        assert.equal(state.outcome, 'soft');
        assert.equal(state.signal, 'SIGTERM');
        assert.equal(state.exitCode, null);
        assert.deepEqual(await s.terminate(), state, 'terminating again gives the same record');
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'terminate: a child ignoring SIGTERM after its ready line is killed hard after the grace',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'trap "" TERM; echo STUBBORN_READY; while :; do sleep 0.05; done'],
        });
        await waitForText(s, 'STUBBORN_READY'); // the trap is in place
        const t0 = performance.now();
        const state = await s.terminate({ graceMs: 300 });
        assert.equal(state.outcome, 'hard');
        assert.equal(state.signal, 'SIGKILL');
        assert.ok(performance.now() - t0 >= 250, 'the grace was given');
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'terminate: grandchildren die with the child, none survive',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: [
            'sh',
            '-c',
            'sleep 1000 & echo "gc $!"; (trap "" TERM; sleep 1000) & echo "gc $!"; echo READY; wait',
          ],
        });
        await waitForText(s, 'READY');
        const pids = [
          ...s
            .snapshot()
            .data.toString()
            .matchAll(/gc (\d+)/g),
        ].map((m) => Number(m[1]));
        assert.equal(pids.length, 2);
        for (const p of pids) assert.equal(isGone(p), false);
        const state = await s.terminate({ graceMs: 300 });
        assert.equal(state.outcome, 'soft', 'the child itself ended on SIGTERM');
        for (const p of pids) assert.ok(isGone(p), `grandchild ${p} survived`);
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'graceMs 0 kills at once (hard); bad input is a typed error that leaves nothing behind',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({ argv: ['sleep', '1000'] });
        assert.throws(() => s.terminate({ graceMs: -1 }), InvalidOptionError);
        assert.throws(
          () => s.terminate({ softSignal: 'SIGNOPE' as NodeJS.Signals }),
          InvalidOptionError,
        );
        assert.equal((await s.terminate({ graceMs: 0 })).outcome, 'hard');
        await assert.rejects(reg.spawn({ argv: ['no-such-program-sluice'] }), (e: unknown) => {
          assert.ok(e instanceof SpawnError);
          assert.equal(e.code, 'ERR_SLUICE_SPAWN_NOT_FOUND');
          return true;
        });
        await assert.rejects(reg.spawn({ argv: [] }), InvalidOptionError);
        await assert.rejects(reg.spawn({ argv: ['true'], cwd: '/no/such/dir' }), SpawnError);
        await assert.rejects(reg.spawn({ argv: ['true'], maxRingBytes: 0 }), InvalidOptionError);
        assert.equal(reg.size, 1);
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'a slow attachment misses bytes and says how many, while a fast one misses none',
    withLeakCheck(async () => {
      const reg = new SessionRegistry({ maxRingBytes: 4 << 20 });
      try {
        const total = 2_000_000;
        const s = await reg.spawn({ argv: ['head', '-c', String(total), '/dev/urandom'] });
        const fast = s.attach('stdout', { readOnly: true });
        const slow = s.attach('stdout', { readOnly: true, maxQueueBytes: 64 * 1024 });
        slow.pause();
        const fastFrames = allFrames(fast);
        await s.exited;
        const fastOut = outputOf(await fastFrames);
        assert.equal(fast.missedBytes, 0);
        assert.equal(fastOut.length + fast.backlog.length, total);
        const slowFrames = await allFrames(slow);
        const slowOut = outputOf(slowFrames);
        assert.ok(slow.missedBytes > 0, 'the slow client fell behind');
        assert.equal(slow.backlog.length + slowOut.length + slow.missedBytes, total);
        const gaps = slowFrames.filter((f) => f.type === 'missed');
        assert.equal(
          gaps.reduce((n, f) => n + (f.type === 'missed' ? f.bytes : 0), 0),
          slow.missedBytes,
        );
        // What the slow client did get is the true tail of the stream.
        const all = s.snapshot().data;
        assert.ok(all.subarray(total - slowOut.length).equals(slowOut));
      } finally {
        await reg.shutdown();
      }
    }),
  );
  it(
    'a lossless attachment holds the child while its queue is full: every byte, in order, none missed',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        // 8 MiB of numbered lines, far more than the queue and the kernel pipe hold together.
        const total = 8 * 1024 * 1024;
        const s = await reg.spawn({
          argv: ['sh', '-c', `read go; seq 1 2000000 | head -c ${total}`],
        });
        const a = s.attach('stdout', { lossless: true, maxQueueBytes: 256 * 1024 });
        await s.writeStdin('go\n');
        // Nobody reads: the child must stop, held by the full queue and the full pipe.
        await waitFor(() => a.queuedBytes >= 256 * 1024, { message: 'the queue never filled' });
        const heldAt = s.snapshot().end;
        // A window in which an unheld child would go on (under load it could only pass falsely,
        // never fail falsely): nothing more is read and the child cannot finish.
        for (let i = 0; i < 20; i++) {
          await new Promise((r) => setTimeout(r, 10));
          assert.equal(s.snapshot().end, heldAt, 'nothing is read while the client is full');
        }
        assert.ok(s.exitInfo === null, 'the child is still running, blocked on its pipe');
        assert.ok(heldAt < total, `held at ${heldAt} of ${total} bytes`);
        assert.ok(a.queuedBytes < 256 * 1024 + 256 * 1024, `bounded (${a.queuedBytes})`);
        const frames = await allFrames(a);
        const out = outputOf(frames);
        assert.equal(a.missedBytes, 0);
        assert.equal(frames.filter((f) => f.type === 'missed').length, 0);
        assert.equal(out.length, total);
        const expected = (await import('node:child_process')).execFileSync(
          'sh',
          ['-c', `seq 1 2000000 | head -c ${total}`],
          {
            maxBuffer: total * 2,
          },
        );
        assert.ok(out.equals(expected), 'byte for byte');
        assert.deepEqual(s.exitInfo, { exitCode: 0, signal: null, outcome: 'natural' });
      } finally {
        await reg.shutdown();
      }
    }),
  );
});
