/**
 * The pipeline's errorRule on real commands: 'sluice' (the default) forgives SIGPIPE upstream of
 * stages that succeeded; 'go-pipe' keeps go-pipe's rule; real failures fail under both.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { command, isSigpipe, PipelineError, pipeline } from '../../src/pipe/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

describe('pipe: errorRule on commands', () => {
  test(
    "seq 1 100000 | head -2 succeeds under 'sluice' with both lines",
    withLeakCheck(async () => {
      const p = pipeline().add(command('seq', ['1', '100000']), command('head', ['-2']));
      assert.equal(await p.text(), '1\n2\n');
      assert.ok(p.results.every((r) => !r.failed));
    }),
  );

  test(
    "yes | head -1 succeeds under 'sluice'; yes's ExitInfo says SIGPIPE, natural",
    withLeakCheck(async () => {
      const p = pipeline().add(command('yes'), command('head', ['-1']));
      assert.equal(await p.text(), 'y\n');
      const [yes, head] = p.results;
      assert.deepEqual(yes!.exitInfo, { exitCode: null, signal: 'SIGPIPE', outcome: 'natural' });
      assert.ok(isSigpipe(yes!.error), 'the SIGPIPE is still recorded as the stage error');
      assert.equal(yes!.failed, false);
      assert.deepEqual(head!.exitInfo, { exitCode: 0, signal: null, outcome: 'natural' });
      assert.equal(head!.failed, false);
    }),
  );

  test(
    "yes | cat | head -1: a chain of forgiven SIGPIPEs succeeds under 'sluice'",
    withLeakCheck(async () => {
      const p = pipeline().add(command('yes'), command('cat'), command('head', ['-1']));
      assert.equal(await p.text(), 'y\n');
    }),
  );

  test(
    "yes | head -1 fails under 'go-pipe' with yes's SIGPIPE",
    withLeakCheck(async () => {
      const p = pipeline({ errorRule: 'go-pipe' }).add(command('yes'), command('head', ['-1']));
      const err = await p.text().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof PipelineError, String(err));
      assert.equal(err.stage, 'yes');
      assert.ok(isSigpipe(err));
      assert.equal(p.results[0]!.failed, true);
    }),
  );

  for (const errorRule of ['sluice', 'go-pipe'] as const) {
    test(
      `${errorRule}: a real failure downstream of a SIGPIPE rejects naming that stage`,
      withLeakCheck(async () => {
        const p = pipeline({ errorRule }).add(
          command('yes'),
          command('sh', ['-c', 'head -1; exit 5'], { name: 'five' }),
        );
        const err = await p.run().then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof PipelineError, String(err));
        assert.equal(err.stage, 'five');
        assert.equal(err.exitCode, 5);
        assert.deepEqual(
          p.results.map((r) => r.failed),
          [true, true],
        );
      }),
    );

    test(
      `${errorRule}: a real failure upstream rejects naming that stage`,
      withLeakCheck(async () => {
        const p = pipeline({ errorRule }).add(
          command('sh', ['-c', 'echo x; exit 3'], { name: 'three' }),
          command('cat'),
        );
        const err = await p.run().then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof PipelineError, String(err));
        assert.equal(err.stage, 'three');
        assert.equal(err.exitCode, 3);
      }),
    );
  }
});
