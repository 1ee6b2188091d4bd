/**
 * The client's errors: each a `SessionsError` (so a `SluiceError`) with a stable code, causes
 * chained as `Error`s, one line each.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SluiceError } from '../../../src/proc/index.js';
import {
  DaemonNotRunningError,
  isRequestError,
  SessionDaemon,
  SessionsClient,
  SessionsError,
  SessionsRequestError,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

describe('client errors', () => {
  test(
    'no daemon: DaemonNotRunningError with a code, a hint, and the system error as its cause',
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-errors-'));
      try {
        const socketPath = join(dir, 'none.sock');
        const e = await SessionsClient.connect({ socketPath }).then(
          () => assert.fail('connected to nothing'),
          (error: unknown) => error,
        );
        assert.ok(e instanceof DaemonNotRunningError);
        assert.ok(e instanceof SessionsError && e instanceof SluiceError);
        assert.equal(e.code, 'ERR_SLUICE_DAEMON_NOT_RUNNING');
        assert.ok(e.cause instanceof Error, 'the cause is an Error, not a string');
        assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOENT');
        assert.match(e.message, /no sluice daemon answers at .* \(no socket there\); start one/);
        assert.doesNotMatch(e.message, /\n/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    "a refusal is a SessionsRequestError with a sluice code and the protocol's code",
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-errors-'));
      try {
        const socketPath = join(dir, 'd.sock');
        await using _daemon = await SessionDaemon.start({ socketPath, log: null });
        await using client = await SessionsClient.connect({ socketPath });
        const e = await client.get('nosuchsess').then(
          () => assert.fail('found a session that does not exist'),
          (error: unknown) => error,
        );
        assert.ok(e instanceof SessionsRequestError && e instanceof SessionsError);
        assert.equal(e.code, 'ERR_SLUICE_DAEMON_NOT_FOUND');
        assert.equal(e.wireCode, 'not-found');
        assert.ok(isRequestError(e, 'not-found'));
        assert.equal(isRequestError(e, 'invalid'), false);
        await assert.rejects(client.spawn({ argv: ['echo', 'a\0b'] }), (x: unknown) =>
          isRequestError(x, 'invalid'),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
