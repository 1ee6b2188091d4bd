/**
 * The supervisor's options as users write them: the deprecated aliases still work, graceMs 0
 * means SIGKILL at once, stderr lines come as text or as raw bytes, and the exit record keeps its
 * old `code` name hidden beside `exitCode`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError, type SuperviseConfig, supervise } from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

const TERM_EXITS_0 = ['sh', '-c', 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'];

async function ready(lines: AsyncIterator<string>): Promise<void> {
  assert.equal((await lines.next()).value, 'ready');
}

describe('supervisor: options', () => {
  test(
    'the 0.1 names (cmd, stopGraceMs, stopEofMs, maxLineLength) still work; argv and cmd together are refused',
    withLeakCheck(async () => {
      const legacy = { cmd: ['cat'], stopGraceMs: 3000, stopEofMs: 2000, maxLineLength: 3 };
      const child = await supervise(legacy as SuperviseConfig);
      const lines = child.lines();
      await child.send('abcdef');
      assert.equal((await lines.next()).value, '"ab');
      const info = await child.stop();
      assert.deepEqual([info.exitCode, info.outcome], [0, 'eof']);
      await assert.rejects(
        supervise({ argv: ['cat'], cmd: ['cat'] } as unknown as SuperviseConfig),
        InvalidOptionError,
      );
    }),
  );

  test(
    "ExitInfo: exitCode, signal, outcome and exitedAt; the old 'code' is a hidden alias",
    withLeakCheck(async () => {
      const child = await supervise({ argv: ['sh', '-c', 'exit 3'] });
      const info = await child.done;
      assert.deepEqual(Object.keys(info).sort(), ['exitCode', 'exitedAt', 'outcome', 'signal']);
      assert.equal(info.exitCode, 3);
      assert.equal(info.code, 3);
      assert.equal(JSON.parse(JSON.stringify(info)).code, undefined);
      assert.ok(Math.abs(info.exitedAt - Date.now()) < 60_000);
    }),
  );

  test(
    'graceMs 0: stop() SIGKILLs at once, without SIGTERM or an EOF wait (outcome hard)',
    withLeakCheck(async () => {
      const child = await supervise({ argv: TERM_EXITS_0, graceMs: 0 });
      await ready(child.lines());
      const t0 = performance.now();
      const info = await child.stop();
      assert.ok(performance.now() - t0 < 1500, 'no EOF wait, no grace');
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [null, 'SIGKILL', 'hard']);
    }),
  );

  test(
    "a child that exits 0 from its SIGTERM handler reads 'soft', one that exits on EOF 'eof'",
    withLeakCheck(async () => {
      const child = await supervise({ argv: TERM_EXITS_0, eofTimeoutMs: 50 });
      await ready(child.lines());
      const info = await child.stop();
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [0, null, 'soft']);
    }),
  );

  test(
    'stderr: text lines (CRLF as LF, invalid UTF-8 as U+FFFD) and raw lines (every byte but the \\n) side by side',
    withLeakCheck(async () => {
      const text: string[] = [];
      const raw: Buffer[] = [];
      const child = await supervise({
        argv: ['sh', '-c', "printf 'a\\r\\nb\\377c\\nlast' >&2"],
        onStderr: (line) => text.push(line),
        onStderrBytes: (line) => raw.push(line),
      });
      await child.done;
      assert.deepEqual(text, ['a', 'b\uFFFDc', 'last']);
      assert.deepEqual(raw, [
        Buffer.from('a\r'),
        Buffer.from([0x62, 0xff, 0x63]),
        Buffer.from('last'),
      ]);
    }),
  );

  test(
    'stderr: a line past maxLineBytes is cut; an async callback holds stderr back until it settles',
    withLeakCheck(async () => {
      const pieces: string[] = [];
      let pending = 0;
      let maxPending = 0;
      const child = await supervise({
        argv: ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x >&2; echo >&2; echo done'],
        maxLineBytes: 1000,
        onStderr: async (line) => {
          pending++;
          maxPending = Math.max(maxPending, pending);
          await new Promise((r) => setImmediate(r));
          pieces.push(line);
          pending--;
        },
      });
      const lines = child.lines();
      assert.equal((await lines.next()).value, 'done');
      await child.done; // every line was handed over; the last callbacks settle just after
      await waitFor(() => pending === 0);
      assert.equal(pieces.join('').length, 100_000);
      assert.ok(pieces.every((p) => p.length <= 1000));
      // One chunk's lines at most are in flight at once (64 KiB / 1000 bytes per piece).
      assert.ok(maxPending <= 70, `${maxPending} callbacks pending at once`);
    }),
  );
});
