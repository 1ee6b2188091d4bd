/**
 * 29 malformed messages at a live daemon: each gets one error answer with the right protocol
 * code (a value that is well-typed but can never be run is `invalid`, never `internal`), the
 * connection is closed exactly when the message leaves nothing to answer on, and the daemon keeps
 * serving.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SessionDaemon, SessionsClient } from '../../src/sessions/index.js';
import { encodeFrame, FrameDecoder } from '../../src/sessions/wire/frames.js';
import { PROTOCOL_VERSION } from '../../src/sessions/wire/protocol.js';
import { withLeakCheck } from '../helpers/leaks.js';

interface Case {
  name: string;
  /** Say hello first (the answer to it is skipped). */
  greeted: boolean;
  /** What is sent after (or instead of) the hello. */
  bytes: Uint8Array;
  code: string;
  /** Whether the daemon must close the connection after answering. */
  closes: boolean;
}

const frame = (value: unknown) => encodeFrame(value);
const raw = (length: number, body: number[]) => {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32BE(length, 0);
  Buffer.from(body).copy(b, 4);
  return b;
};
const spawn = (fields: Record<string, unknown>) => frame({ id: 7, op: 'spawn', ...fields });
const before = (name: string, bytes: Uint8Array, code: string): Case => ({
  name,
  greeted: false,
  bytes,
  code,
  closes: true,
});
const after = (name: string, bytes: Uint8Array, code: string): Case => ({
  name,
  greeted: true,
  bytes,
  code,
  closes: false,
});

const CASES: Case[] = [
  before('a length over 4 MiB', raw(0xffffffff, []), 'bad-frame'),
  before('an empty body', raw(0, []), 'bad-frame'),
  before('a body that is not MessagePack', raw(1, [0xc1]), 'bad-frame'),
  before('trailing bytes after the value', raw(2, [0xc0, 0xc0]), 'bad-frame'),
  before('an array, not a map', frame([1, 'hello']), 'protocol'),
  before('a map without an id', frame({ op: 'hello', version: PROTOCOL_VERSION }), 'protocol'),
  before('id 0', frame({ id: 0, op: 'ping' }), 'protocol'),
  before('a negative id', frame({ id: -3, op: 'ping' }), 'protocol'),
  before('a fractional id', frame({ id: 1.5, op: 'ping' }), 'protocol'),
  before('no op', frame({ id: 1 }), 'protocol'),
  before('a request before hello', frame({ id: 1, op: 'ping' }), 'protocol'),
  before('hello with another version', frame({ id: 1, op: 'hello', version: 999 }), 'version'),
  before(
    'hello with a version that is a string',
    frame({ id: 1, op: 'hello', version: '2' }),
    'invalid',
  ),
  after('an unknown op', frame({ id: 7, op: 'fork-bomb' }), 'protocol'),
  after('hello twice', frame({ id: 7, op: 'hello', version: PROTOCOL_VERSION }), 'protocol'),
  after('spawn with argv not an array', spawn({ argv: 'sh -c true' }), 'protocol'),
  after('spawn with a number in argv', spawn({ argv: ['echo', 1] }), 'protocol'),
  after('spawn with an empty argv', spawn({ argv: [] }), 'invalid'),
  after('spawn with a NUL byte in argv', spawn({ argv: ['echo', 'a\0b'] }), 'invalid'),
  after('spawn with a NUL byte in cwd', spawn({ argv: ['true'], cwd: '/tmp\0/x' }), 'invalid'),
  after('spawn with env not a map', spawn({ argv: ['true'], env: ['A=1'] }), 'protocol'),
  after(
    'spawn with an env value not a string',
    spawn({ argv: ['true'], env: { A: 1 } }),
    'protocol',
  ),
  after(
    'spawn with an env key holding =',
    spawn({ argv: ['true'], env: { 'A=B': 'x' } }),
    'invalid',
  ),
  after('spawn with an empty env key', spawn({ argv: ['true'], env: { '': 'x' } }), 'invalid'),
  after(
    'spawn with a NUL byte in an env value',
    spawn({ argv: ['true'], env: { A: 'x\0' } }),
    'invalid',
  ),
  after(
    'spawn with a PTY of 0 rows',
    spawn({ argv: ['true'], pty: { rows: 0, cols: 80 } }),
    'invalid',
  ),
  after(
    'stop with a negative grace',
    frame({ id: 7, op: 'stop', session: 'x', graceMs: -1 }),
    'invalid',
  ),
  after(
    'attach to a stream that does not exist',
    frame({ id: 7, op: 'attach', session: 'x', stream: 'stdin' }),
    'protocol',
  ),
  after(
    'get of a session nobody has',
    frame({ id: 7, op: 'get', session: 'nosuchsess' }),
    'not-found',
  ),
];

/** Sends one case on a fresh connection; resolves with the answer to it and whether it closed. */
function exchange(
  socketPath: string,
  c: Case,
): Promise<{ answer: Record<string, unknown> | undefined; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const decoder = new FrameDecoder();
    const frames: Record<string, unknown>[] = [];
    const want = c.greeted ? 2 : 1;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      resolve({ answer: frames[want - 1], closed });
    };
    sock.on('data', (d: Buffer) => {
      try {
        for (const v of decoder.push(d)) frames.push(v as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`${c.name}: the daemon sent a bad frame: ${(e as Error).message}`));
        return;
      }
      // An answer that keeps the connection open: check it stays open by a ping behind it.
      if (frames.length === want && !c.closes) sock.write(frame({ id: 99, op: 'ping' }));
      if (frames.length === want + 1 && !c.closes) done();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      done();
    });
    sock.on('connect', () => {
      if (c.greeted) sock.write(frame({ id: 1, op: 'hello', version: PROTOCOL_VERSION }));
      sock.write(c.bytes);
      timer = setTimeout(done, 10_000);
    });
  });
}

describe('malformed frames', () => {
  test(
    `${CASES.length} malformed messages each get the right error code; the daemon keeps serving`,
    withLeakCheck(async () => {
      assert.equal(CASES.length, 29);
      const dir = mkdtempSync(join(tmpdir(), 'sluice-adv-frames-'));
      const socketPath = join(dir, 'd.sock');
      try {
        await using daemon = await SessionDaemon.start({ socketPath, log: null });
        for (const c of CASES) {
          const { answer, closed } = await exchange(socketPath, c);
          assert.ok(answer, `${c.name}: an answer`);
          assert.equal(answer.ok, false, `${c.name}: ${JSON.stringify(answer)}`);
          const error = answer.error as { code: string; message: string };
          assert.equal(error.code, c.code, `${c.name}: ${error.message}`);
          assert.ok(error.message.length > 0 && !error.message.includes('\n'), 'one line');
          assert.equal(closed, c.closes, `${c.name}: closed`);
        }
        // Still serving, and nothing was started by any of it.
        await using client = await SessionsClient.connect({ socketPath });
        await client.ping();
        assert.deepEqual(await client.list(), []);
        assert.equal(daemon.registry.size, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
});
