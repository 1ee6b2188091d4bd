/**
 * Empty writes settle at once with 0 bytes, in the library (pipe and PTY sessions) and through
 * the daemon (a `send` with neither data nor eof is answered), and leave stdin open.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionRegistry } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { startDaemon } from '../daemon-harness.js';

/** `p`, or a rejection naming `what` if it has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe("writeStdin('')", () => {
  for (const kind of ['pipe', 'pty'] as const) {
    test(
      `settles at once with 0 bytes on a ${kind} session, and stdin stays open`,
      withLeakCheck(async () => {
        await using reg = new SessionRegistry();
        const s = await reg.spawn({
          argv: ['cat'],
          ...(kind === 'pty' ? { pty: { rows: 24, cols: 80 } } : {}),
        });
        assert.equal(await within(s.writeStdin(''), 2000, "writeStdin('')"), 0);
        assert.equal(await within(s.writeStdin(new Uint8Array(0)), 2000, 'an empty buffer'), 0);
        assert.equal(s.stdinClosed, false);
        await s.writeStdin('after\n');
        await waitFor(() => s.snapshot().data.toString().includes('after'));
      }),
    );
  }

  test(
    'a daemon send with neither data nor eof is answered with 0 bytes written',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ['cat'] });
        const r = await within(c.request({ op: 'send', session: s.id }), 5000, 'the send');
        assert.deepEqual(r, { bytesWritten: 0 });
        assert.equal(await within(c.writeStdin(s.id, ''), 5000, "writeStdin(id, '')"), 0);
        assert.equal((await c.get(s.id)).stdinClosed, false);
        assert.equal(await c.writeStdin(s.id, 'x\n'), 2);
        await waitFor(async () => (await c.snapshot(s.id)).data.toString() === 'x\n');
      } finally {
        await d.stop();
      }
    }),
  );
});
