import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, SessionRegistry } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';

describe('sessions restart with the supervisor restart policy', () => {
  it(
    'on-failure: restarts a failing program until the budget is spent; one backlog, one attachment',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'echo run; exit 3'],
          restart: { when: 'on-failure', maxRestarts: 2, backoffMs: 10, minUptimeMs: 60_000 },
        });
        const a = s.attach('stdout', { readOnly: true });
        const frames: string[] = [];
        for await (const f of a) {
          if (f.type === 'output') frames.push(f.data.toString());
          else frames.push(`<${f.type}>`);
        }
        const text = frames.join('');
        assert.equal(text.split('run\n').length - 1, 3, text);
        assert.match(text, /\[sluice: exited with code 3; restart 1 in 10 ms\]\n/);
        assert.match(text, /\[sluice: exited with code 3; restart 2 in 20 ms\]\n/);
        assert.match(text, /not restarting: 2 restarts in a row/);
        assert.ok(text.endsWith('<eof><exit>'), 'eof and exit once, at the very end');
        const exit = await s.exited;
        assert.equal(exit.exitCode, 3);
        assert.equal(s.restarts, 2);
        assert.deepEqual(s.info().lastExit, { exitCode: 3, signal: null, outcome: 'natural' });
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'on-failure does not restart a clean exit; a bad policy is an InvalidOptionError',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'echo once'],
          restart: { when: 'on-failure', backoffMs: 10 },
        });
        assert.equal((await s.exited).exitCode, 0);
        assert.equal(s.restarts, 0);
        assert.equal(s.snapshot().data.toString(), 'once\n');
        await assert.rejects(
          reg.spawn({ argv: ['true'], restart: { when: 'sometimes' as never } }),
          InvalidOptionError,
        );
        await assert.rejects(
          reg.spawn({ argv: ['true'], pty: { rows: 5, cols: 20 }, restart: { maxRestarts: -1 } }),
          InvalidOptionError,
        );
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'a PTY session restarts on a new terminal; its screen and ring carry on',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'echo pty-run $$'],
          pty: { rows: 10, cols: 60 },
          restart: { when: 'always', maxRestarts: 1, backoffMs: 10, minUptimeMs: 60_000 },
        });
        const firstPid = s.pid;
        await s.exited;
        assert.notEqual(s.pid, firstPid, 'a new process');
        assert.equal(s.restarts, 1);
        const raw = s.snapshot().data.toString();
        assert.match(
          raw,
          /pty-run \d+\r\n\[sluice: exited with code 0; restart 1 in 10 ms\]\r\npty-run \d+\r\n/,
        );
        const { text } = await s.screen!.text();
        assert.match(
          text,
          /^pty-run \d+\n\[sluice: exited with code 0; restart 1 in 10 ms\]\npty-run \d+\n/,
        );
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'terminate between two runs ends the session with the last run exit',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'exit 4'],
          restart: { backoffMs: 20_000 },
        });
        await waitFor(() => s.snapshot().data.includes('restart 1 in 20000 ms'), {
          timeoutMs: 10_000,
        });
        const exit = await s.terminate({ graceMs: 100 });
        assert.equal(exit.exitCode, 4);
        assert.equal(s.restarts, 1);
        assert.equal(s.info().state, 'exited');
      } finally {
        await reg.shutdown();
      }
    }),
  );
});
