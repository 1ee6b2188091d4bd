/**
 * sluice's one vocabulary as pipe speaks it: `ExitInfo` with `outcome`, `graceMs` (and its
 * deprecated alias), `maxBufferBytes`, `InvalidOptionError` for bad options, `ERR_SLUICE_PIPE_*`
 * codes on `SluiceError`s, and `await using`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClosedPipeError,
  CommandError,
  command,
  fn,
  InvalidOptionError,
  MaxBufferError,
  PipeError,
  PipelineError,
  type PipelineOptions,
  PipeUsageError,
  pipeline,
  type Stage,
  type StageContext,
  StageStartError,
} from '../../src/pipe/index.js';
import { DEFAULT_GRACE_MS, SluiceError } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

/** A stage that records the context it was started with and ends at once. */
function contextSpy(seen: StageContext[]): Stage {
  return {
    name: 'spy',
    preferences: { stdin: 'any', stdout: 'any' },
    start(ctx, stdin, stdout) {
      seen.push(ctx);
      stdin.close();
      stdout.close();
    },
    wait: () => Promise.resolve(),
  };
}

describe('pipe: one vocabulary', () => {
  test('graceMs defaults to DEFAULT_GRACE_MS; killGraceMs is its deprecated alias', async () => {
    const seen: StageContext[] = [];
    await pipeline().add(contextSpy(seen)).run();
    await pipeline({ graceMs: 123 }).add(contextSpy(seen)).run();
    await pipeline({ killGraceMs: 456 }).add(contextSpy(seen)).run();
    assert.deepEqual(
      seen.map((c) => c.graceMs),
      [DEFAULT_GRACE_MS, 123, 456],
    );
    assert.equal(seen[2]!.killGraceMs, 456);
    assert.throws(() => pipeline({ graceMs: 1, killGraceMs: 2 }), InvalidOptionError);
  });

  test('bad options are InvalidOptionErrors naming the option', () => {
    const bad: [PipelineOptions, string][] = [
      [{ graceMs: -1 }, 'graceMs'],
      [{ graceMs: 1.5 }, 'graceMs'],
      [{ maxBufferBytes: -1 }, 'maxBufferBytes'],
      [{ maxBuffer: Number.NaN }, 'maxBufferBytes'],
      [{ pipeSize: -4096 }, 'pipeSize'],
      [{ errorRule: 'bash' as 'sluice' }, 'errorRule'],
      [{ stdin: {} as unknown as string }, 'stdin'],
      [{ stdout: 'file.txt' as unknown as number }, 'stdout'],
      [{ cwd: '' }, 'cwd'],
      [{ env: { 'A=B': 'x' } }, 'env'],
      [{ env: { A: 'x\0y' } }, 'env.A'],
      [{ signal: {} as AbortSignal }, 'signal'],
      [{ onEvent: 'log' as unknown as () => void }, 'onEvent'],
    ];
    for (const [options, name] of bad) {
      assert.throws(
        () => pipeline(options),
        (e: unknown) => e instanceof InvalidOptionError && e.option === name,
        `${JSON.stringify(options)} should name ${name}`,
      );
    }
    assert.throws(() => pipeline().add(42 as unknown as Stage), InvalidOptionError);
    assert.throws(() => fn('', () => {}), InvalidOptionError);
  });

  test('every pipe error is a SluiceError with an ERR_SLUICE_ code', () => {
    const errors = [
      new PipeUsageError('x'),
      new CommandError({
        stage: 's',
        file: 'f',
        args: [],
        pid: 1,
        exitCode: 1,
        signal: null,
        stderrTail: '',
      }),
      new StageStartError('s', 'x'),
      new ClosedPipeError(),
      new MaxBufferError(10),
      new PipelineError('s', 0, new Error('plain')),
    ];
    for (const e of errors) {
      assert.ok(e instanceof PipeError, e.name);
      assert.ok(e instanceof SluiceError, e.name);
      assert.match(e.code, /^ERR_SLUICE_PIPE_[A-Z_]+$/, e.name);
    }
    assert.equal(new MaxBufferError(10).maxBuffer, 10, 'the deprecated field still reads');
  });

  test(
    'maxBufferBytes (and its alias maxBuffer) caps output()',
    withLeakCheck(async () => {
      for (const options of [{ maxBufferBytes: 1000 }, { maxBuffer: 1000 }]) {
        const err = await pipeline(options)
          .add(command('yes'))
          .output()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(err instanceof MaxBufferError);
        assert.equal(err.maxBufferBytes, 1000);
      }
    }),
  );

  test(
    "ExitInfo.outcome: 'natural' on its own, 'soft' after SIGTERM, 'hard' after the grace",
    withLeakCheck(async () => {
      const p = pipeline({ graceMs: 200 }).add(
        command('true'),
        command('sleep', ['30']),
        command('sh', ['-c', 'trap "" TERM; echo ready; sleep 30'], { name: 'deaf' }),
      );
      const lines = p.lines()[Symbol.asyncIterator]();
      assert.deepEqual(await lines.next(), { done: false, value: 'ready' });
      p.abort(new Error('stop'));
      await p.wait().catch(() => {});
      const [t, sleep, deaf] = p.results;
      assert.deepEqual(t!.exitInfo, { exitCode: 0, signal: null, outcome: 'natural' });
      assert.deepEqual(sleep!.exitInfo, { exitCode: null, signal: 'SIGTERM', outcome: 'soft' });
      assert.deepEqual(deaf!.exitInfo, { exitCode: null, signal: 'SIGKILL', outcome: 'hard' });
      // The pipeline already failed (it was stopped): leaving the loop reports that again.
      await lines.return?.().catch(() => {});
    }),
  );
});

describe('pipe: await using', () => {
  test(
    'disposing a running pipeline stops it and waits: every child reaped, no throw',
    withLeakCheck(async () => {
      let p: ReturnType<typeof pipeline> | undefined;
      {
        await using q = pipeline({ graceMs: 1000 }).add(
          command('sleep', ['30']),
          command('sleep', ['31']),
        );
        p = q;
        q.start();
      }
      assert.equal(p.results.length, 2, 'disposal waited for every stage');
      assert.deepEqual(
        p.results.map((r) => r.exitInfo),
        [
          { exitCode: null, signal: 'SIGTERM', outcome: 'soft' },
          { exitCode: null, signal: 'SIGTERM', outcome: 'soft' },
        ],
      );
      await assert.rejects(p.wait(), PipelineError);
    }),
  );

  test(
    'disposing a pipeline that failed does not throw its failure',
    withLeakCheck(async () => {
      {
        await using p = pipeline().add(command('false'));
        await assert.rejects(p.run(), PipelineError);
      }
    }),
  );

  test('a pipeline disposed before it started cannot start', async () => {
    const p = pipeline().add(command('true'));
    await p[Symbol.asyncDispose]();
    assert.throws(() => p.start(), PipeUsageError);
  });
});
