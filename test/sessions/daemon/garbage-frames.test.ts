import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder } from '../../../src/sessions/wire/frames.js';
import { PROTOCOL_VERSION } from '../../../src/sessions/wire/protocol.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { startDaemon } from '../daemon-harness.js';

interface Exchange {
  /** Every frame the daemon sent back. */
  frames: Record<string, unknown>[];
  /** Whether the daemon closed the connection (before our timeout). */
  closed: boolean;
}

/**
 * Opens a raw connection, writes `chunks` (frames or garbage), and collects what comes back until
 * the daemon closes, or `frames` replies have come, or `settleMs` passed with nothing arriving
 * (only for the random cases, where either outcome is fine).
 */
function exchange(
  socketPath: string,
  chunks: Uint8Array[],
  options: { settleMs?: number; frames?: number } = {},
): Promise<Exchange> {
  const settleMs = options.settleMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(socketPath);
    const decoder = new FrameDecoder();
    const frames: Record<string, unknown>[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      sock.removeAllListeners('close');
      sock.destroy();
      resolve({ frames, closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), settleMs);
    };
    sock.on('data', (d: Buffer) => {
      try {
        for (const v of decoder.push(d)) frames.push(v as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`the daemon sent a bad frame: ${(e as Error).message}`));
      }
      if (options.frames !== undefined && frames.length >= options.frames) finish(false);
      else arm();
    });
    sock.on('error', () => {
      // ECONNRESET when the daemon drops us mid-write: 'close' follows.
    });
    sock.on('close', () => finish(true));
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
      arm();
    });
  });
}

const hello = (id = 1) => encodeFrame({ id, op: 'hello', version: PROTOCOL_VERSION });

function errorOf(frame: Record<string, unknown> | undefined): { code: string; message: string } {
  assert.ok(frame, 'an answer');
  assert.equal(frame.ok, false, JSON.stringify(frame));
  return frame.error as { code: string; message: string };
}

describe('garbage at a live daemon', () => {
  test(
    'each bad frame gets an error reply and its connection closed; the daemon keeps serving',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const session = await c.spawn({ argv: ['sh', '-c', 'echo alive; exec cat'] });

        // Oversized: refused from the length alone.
        const big = Buffer.alloc(4);
        big.writeUInt32BE(0xffffffff, 0);
        let r = await exchange(d.socket, [big]);
        assert.equal(errorOf(r.frames[0]).code, 'bad-frame');
        assert.match(errorOf(r.frames[0]).message, /exceeds the 4194304-byte limit/);
        assert.ok(r.closed);

        // Not MessagePack.
        r = await exchange(d.socket, [Buffer.from([0, 0, 0, 1, 0xc1])]);
        assert.equal(errorOf(r.frames[0]).code, 'bad-frame');
        assert.ok(r.closed);

        // Well-framed nonsense, and requests before hello.
        for (const value of [[1, 2], 'x', { op: 'ping' }, { id: 1, op: 'ping' }]) {
          r = await exchange(d.socket, [encodeFrame(value)]);
          assert.equal(errorOf(r.frames[0]).code, 'protocol', JSON.stringify(value));
          assert.ok(r.closed);
        }
        // A version this daemon does not speak.
        r = await exchange(d.socket, [encodeFrame({ id: 1, op: 'hello', version: 99 })]);
        assert.equal(errorOf(r.frames[0]).code, 'version');
        assert.match(errorOf(r.frames[0]).message, /version 99 is not supported/);
        assert.ok(r.closed);

        // After hello, a bad request is answered by id and the connection stays usable.
        r = await exchange(
          d.socket,
          [
            hello(),
            encodeFrame({ id: 2, op: 'teleport' }),
            encodeFrame({ id: 3, op: 'spawn', argv: [] }),
            encodeFrame({ id: 4, op: 'resize', session: session.id, rows: 0, cols: 10 }),
            encodeFrame({ id: 5, op: 'ping' }),
          ],
          { frames: 5 },
        );
        assert.equal(r.closed, false);
        assert.deepEqual(
          r.frames.map((f) => [f.id, f.ok, (f.error as { code?: string } | undefined)?.code]),
          [
            [1, true, undefined],
            [2, false, 'protocol'],
            [3, false, 'invalid'],
            [4, false, 'invalid'],
            [5, true, undefined],
          ],
        );

        // Garbage after hello still closes the connection, with a reply first.
        r = await exchange(d.socket, [hello(), Buffer.from([0, 0, 0, 3, 0x92, 0xc1, 0xc1])]);
        assert.equal(r.frames[0]?.ok, true);
        assert.equal(errorOf(r.frames[1]).code, 'bad-frame');
        assert.ok(r.closed);

        // Garbage on an attach stream ends the stream with a reason, not the daemon.
        r = await exchange(d.socket, [
          hello(),
          encodeFrame({ id: 2, op: 'attach', session: session.id, readOnly: true }),
          encodeFrame({ op: 'warp' }),
        ]);
        const end = r.frames.find((f) => f.ev === 'end');
        assert.equal(end?.reason, 'error', JSON.stringify(r.frames));
        assert.ok(r.closed);

        // Random bytes, random frames: the daemon answers or drops, never dies.
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.uint8Array({ minLength: 1, maxLength: 200 }),
              fc.anything().map((v) => {
                try {
                  return new Uint8Array(encodeFrame(v));
                } catch {
                  return new Uint8Array([0, 0, 0, 0]);
                }
              }),
            ),
            fc.boolean(),
            async (bytes, afterHello) => {
              const x = await exchange(d.socket, afterHello ? [hello(), bytes] : [bytes], {
                settleMs: 150,
              });
              for (const f of x.frames) {
                assert.equal(typeof f.id, 'number', 'every reply is a response');
              }
            },
          ),
          { numRuns: 150 },
        );
        // A burst of 1 MiB random blobs on 20 connections at once.
        await Promise.all(
          Array.from({ length: 20 }, () =>
            exchange(d.socket, [randomBytes(1 << 20)], { settleMs: 150 }),
          ),
        );

        // Still serving, and the session is untouched.
        await c.ping();
        assert.equal((await c.get(session.id)).state, 'running');
        await c.send(session.id, 'still\n');
        await waitFor(async () => (await c.logs(session.id)).data.toString() === 'alive\nstill\n');
        assert.equal(d.child.exitCode, null, 'the daemon did not crash');
        assert.doesNotMatch(d.log(), /internal error/);
        await c.stop(session.id, { graceMs: 0, wait: true });
      } finally {
        await d.stop();
      }
    }),
  );
});
