import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorCodeOf } from '../../src/sessions/daemon/handlers.js';
import {
  AmbiguousSessionIdError,
  isRequestError,
  MIN_ID_PREFIX_LENGTH,
  SessionIdTooShortError,
  SessionNotFoundError,
} from '../../src/sessions/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { runCli, startDaemon } from '../sessions/daemon-harness.js';

describe('cli: session id prefixes', () => {
  test('the protocol carries the prefix errors as ambiguous, invalid and not-found', () => {
    assert.equal(MIN_ID_PREFIX_LENGTH, 4);
    assert.equal(errorCodeOf(new AmbiguousSessionIdError('k3v9', ['k3v9a', 'k3v9b'])), 'ambiguous');
    assert.equal(errorCodeOf(new SessionIdTooShortError('k3', 4)), 'invalid');
    assert.equal(errorCodeOf(new SessionNotFoundError('k3v9')), 'not-found');
  });

  test(
    'a prefix under 4 characters is refused and touches nothing; 4 characters name the session',
    withLeakCheck(async () => {
      const d = await startDaemon();
      const s = ['--socket', d.socket];
      try {
        const client = await d.client();
        const a = await client.spawn({ argv: ['sleep', '60'] });
        const b = await client.spawn({ argv: ['sleep', '60'] });
        const short1 = a.id.slice(0, 1);
        const short3 = a.id.slice(0, 3);
        // 'i' is not in the id alphabet: no id starts with it.
        const [one, three, unknown] = await Promise.all([
          runCli(['stop', ...s, short1], { timeoutMs: 120_000 }),
          runCli(['rm', ...s, '--force', short3], { timeoutMs: 120_000 }),
          runCli(['logs', ...s, 'iiii'], { timeoutMs: 120_000 }),
        ]);
        assert.equal(one.code, 1, one.stderr);
        assert.equal(
          one.stderr,
          `sluice: session id "${short1}" is too short: give the whole id or at least 4 of its characters\n`,
        );
        assert.equal(three.code, 1, three.stderr);
        assert.match(three.stderr, /^sluice: session id "\w{3}" is too short: [^\n]+\n$/);
        assert.equal(unknown.code, 1);
        assert.equal(unknown.stderr, 'sluice: no session "iiii"\n');
        // A refused spawn speaks of --cwd and of the system error in words.
        const badCwd = await runCli(['spawn', ...s, '--cwd', '/nonexistent-h10', '--', 'true'], {
          timeoutMs: 120_000,
        });
        assert.equal(badCwd.code, 1);
        assert.equal(
          badCwd.stderr,
          'sluice: cannot use cwd /nonexistent-h10: no such file or directory\n',
        );
        // Nothing was stopped or removed by the refused commands.
        const listed = await client.list();
        assert.deepEqual(
          listed.map((x) => [x.id, x.state]).sort(),
          [
            [a.id, 'running'],
            [b.id, 'running'],
          ].sort(),
        );
        // Through the protocol: a typed error with a code, not "no session".
        const wire = await client.get(short3).then(
          () => assert.fail('a 3-character prefix resolved'),
          (e: unknown) => e,
        );
        assert.ok(isRequestError(wire, 'invalid'), String(wire));
        assert.equal(wire.code, 'ERR_SLUICE_DAEMON_INVALID');

        // Four characters (unique among two random ids, unless they share them) stop `a`.
        const prefix4 = a.id.slice(0, 4);
        const stopped = await runCli(['stop', ...s, prefix4], { timeoutMs: 120_000 });
        if (b.id.startsWith(prefix4)) {
          // One chance in 2^20: then the answer must list both.
          assert.equal(stopped.code, 1);
          assert.match(
            stopped.stderr,
            new RegExp(`is ambiguous: 2 sessions match \\(${a.id}, ${b.id}\\)`),
          );
        } else {
          assert.equal(stopped.code, 0, stopped.stderr);
          assert.equal(stopped.stdout, 'soft (signal SIGTERM)\n');
          assert.equal((await client.get(b.id)).state, 'running');
        }
      } finally {
        const r = await d.stop();
        assert.equal(r.code, 0, d.log());
      }
    }),
  );
});
