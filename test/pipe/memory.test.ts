/**
 * memoryLimit and memoryObserver (go-pipe's memory tests, on a smaller scale): a child that
 * allocates anonymous memory, directly or as a grandchild.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  command,
  InvalidOptionError,
  ignoreError,
  MemoryLimitError,
  type MemoryPeak,
  memoryLimit,
  memoryObserver,
  type PipeEvent,
  PipelineError,
  pipeline,
  println,
} from '../../src/pipe/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const MB = 1024 * 1024;
/** Allocates and touches `mb` MB of anonymous memory, says so on stdout, then holds it. */
const hog = (mb: number, holdMs: number) =>
  `const b = Buffer.alloc(${mb} * 1024 * 1024, 1); console.log('allocated'); setTimeout(() => b.length, ${holdMs});`;

describe('pipe: memory watch', () => {
  test(
    'memoryLimit kills the group past the limit with a typed error and an event',
    withLeakCheck(async () => {
      const events: PipeEvent[] = [];
      const t0 = performance.now();
      const err = await pipeline({ onEvent: (e) => events.push(e) })
        .add(
          memoryLimit(command(process.execPath, ['-e', hog(80, 20000)], { name: 'hog' }), 40 * MB, {
            intervalMs: 20,
          }),
        )
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError, String(err));
      assert.ok(err.cause instanceof MemoryLimitError);
      assert.equal(err.stage, 'hog');
      assert.ok((err.cause as MemoryLimitError).used > 40 * MB);
      assert.match(err.message, /hog: memory limit exceeded: .* used, limit 40\.0 MiB/);
      const limitEvent = events.find((e) => e.type === 'memory-limit');
      assert.ok(limitEvent && limitEvent.type === 'memory-limit' && limitEvent.limit === 40 * MB);
      assert.ok(performance.now() - t0 < 10000, 'killed long before it would have exited');
    }),
  );

  test(
    'memoryLimit counts grandchildren (the whole tree)',
    withLeakCheck(async () => {
      const err = await pipeline()
        .add(
          memoryLimit(
            command('sh', ['-c', `"${process.execPath}" -e "${hog(80, 20000)}"; :`], {
              name: 'tree',
            }),
            40 * MB,
            { intervalMs: 20 },
          ),
        )
        .run()
        .catch((e) => e);
      assert.ok((err as PipelineError).cause instanceof MemoryLimitError, String(err));
    }),
  );

  test(
    'memoryObserver reports the peak through onEvent, also through ignoreError',
    withLeakCheck(async () => {
      const events: PipeEvent[] = [];
      const out = await pipeline({ onEvent: (e) => events.push(e) })
        .add(
          ignoreError(
            memoryObserver(command(process.execPath, ['-e', hog(60, 300)]), { intervalMs: 20 }),
            () => false,
          ),
        )
        .text();
      assert.equal(out, 'allocated\n');
      const peak = events.find((e) => e.type === 'memory-peak');
      assert.ok(peak && peak.type === 'memory-peak');
      assert.ok(peak.maxRssBytes > 60 * MB, `peak ${peak.maxRssBytes}`);
      assert.ok(peak.samples > 0);
    }),
  );

  test(
    'memoryLimit with observe reports the true peak when the limit kills the stage',
    withLeakCheck(async () => {
      const events: PipeEvent[] = [];
      const peaks: MemoryPeak[] = [];
      const err = await pipeline({ onEvent: (e) => events.push(e) })
        .add(
          memoryLimit(command(process.execPath, ['-e', hog(80, 20000)], { name: 'hog' }), 40 * MB, {
            intervalMs: 20,
            onPeak: (p) => peaks.push({ ...p }),
          }),
        )
        .run()
        .catch((e) => e);
      assert.ok((err as PipelineError).cause instanceof MemoryLimitError, String(err));
      const used = ((err as PipelineError).cause as MemoryLimitError).used;
      const peak = events.find((e) => e.type === 'memory-peak');
      assert.ok(peak && peak.type === 'memory-peak', 'a memory-peak event when the stage failed');
      assert.ok(peak.maxRssBytes >= used, `peak ${peak.maxRssBytes} < used ${used}`);
      assert.ok(peak.maxRssBytes > 40 * MB);
      assert.equal(peak.limitExceeded, true);
      assert.equal(peaks.length, 1);
      assert.equal(peaks[0]!.maxRssBytes, peak.maxRssBytes);
    }),
  );

  test(
    'memoryObserver wrapped around memoryLimit reports the peak at the kill, not an earlier sample',
    withLeakCheck(async () => {
      const peaks: MemoryPeak[] = [];
      const err = await pipeline()
        .add(
          memoryObserver(
            memoryLimit(
              command(process.execPath, ['-e', hog(80, 20000)], { name: 'hog' }),
              40 * MB,
              {
                intervalMs: 20,
              },
            ),
            // Samples far apart: on its own it would likely see nothing but the start.
            { intervalMs: 60_000, onPeak: (p) => peaks.push({ ...p }) },
          ),
        )
        .run()
        .catch((e) => e);
      assert.ok((err as PipelineError).cause instanceof MemoryLimitError, String(err));
      assert.equal(peaks.length, 1);
      assert.ok(peaks[0]!.maxRssBytes > 40 * MB, `peak ${peaks[0]!.maxRssBytes}`);
      assert.equal(peaks[0]!.limitExceeded, true);
    }),
  );

  test('memory watchers need a command stage', () => {
    assert.throws(() => memoryLimit(println('x'), MB), InvalidOptionError);
    assert.throws(() => memoryObserver(println('x')), InvalidOptionError);
    assert.throws(() => memoryLimit(command('true'), 0), InvalidOptionError);
  });
});
