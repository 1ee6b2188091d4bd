/**
 * Promises a pipeline keeps at the edges: any throw is a failure, `wait()` always settles, and
 * running out of fds is reported as such, naming the stage; a long pipeline needs few fds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  command,
  fn,
  linewise,
  PanicError,
  PipelineError,
  pipeline,
  StageStuckError,
} from '../../src/pipe/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs the many-stages fixture with `stages` stages; its JSON line. `limit.ulimit` starts it
 * under `ulimit -n` (as a shell user would); `limit.spare` has it lower its own limit once its
 * modules are loaded, leaving that many fds free (see test/helpers/fd-limit.ts: a very low
 * ulimit from the start tests the module loader instead).
 */
function underFdLimit(
  limit: { ulimit: number } | { spare: number },
  stages: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const fixture = ['--import', 'tsx', 'test/pipe/fixtures/many-stages.ts', String(stages)];
    const child =
      'ulimit' in limit
        ? spawn(
            'bash',
            ['-c', `ulimit -n ${limit.ulimit} && exec "$0" "$@"`, process.execPath, ...fixture],
            {
              cwd: root,
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          )
        : spawn(process.execPath, [...fixture, String(limit.spare)], {
            cwd: root,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`fixture exited ${code}: ${out}${err}`));
      }
    });
  });
}

describe('pipe: any throw is a failure', () => {
  for (const value of [undefined, null, 'a string', 0]) {
    test(
      `a function stage that throws ${String(value)} fails the pipeline with a PanicError`,
      withLeakCheck(async () => {
        const p = pipeline().add(
          command('seq', ['3']),
          fn('thrower', () => {
            throw value;
          }),
        );
        const err = await p.text().then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof PipelineError, `expected a failure, got ${String(err)}`);
        assert.equal(err.stage, 'thrower');
        assert.ok(err.cause instanceof PanicError);
        assert.equal(err.cause.value, value);
        assert.equal(err.code, 'ERR_SLUICE_PANIC');
      }),
    );
  }

  test('a linewise callback that throws undefined fails its stage', async () => {
    const err = await pipeline()
      .add(
        fn('src', (_ctx, _stdin, stdout) => {
          stdout.write('a\nb\n');
        }),
        linewise('cb', () => {
          throw undefined;
        }),
      )
      .text()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof PipelineError);
    assert.equal(err.stage, 'cb');
    assert.ok(err.cause instanceof PanicError);
  });

  test('a hand-written stage whose wait() rejects with undefined fails', async () => {
    const err = await pipeline()
      .add({
        name: 'custom',
        preferences: { stdin: 'any', stdout: 'any' },
        start(_ctx, stdin, stdout) {
          stdin.close();
          stdout.close();
        },
        wait: () => Promise.reject(undefined),
      })
      .run()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof PipelineError);
    assert.ok(err.cause instanceof PanicError);
  });
});

describe('pipe: wait() always settles', () => {
  test(
    'after abort, a function stage that never settles makes wait() reject naming it, within graceMs',
    withLeakCheck(async () => {
      const p = pipeline({ graceMs: 300 }).add(
        command('sleep', ['30']),
        fn('stubborn', () => new Promise<void>(() => {})),
      );
      p.start();
      const reason = new Error('stop');
      const t0 = performance.now();
      p.abort(reason);
      const err = await p.wait().then(
        () => undefined,
        (e: unknown) => e,
      );
      const took = performance.now() - t0;
      assert.ok(err instanceof PipelineError, String(err));
      assert.equal(err.stage, 'stubborn');
      assert.ok(err.cause instanceof StageStuckError);
      assert.equal(err.cause.cause, reason);
      assert.equal(err.code, 'ERR_SLUICE_PIPE_STAGE_STUCK');
      assert.ok(took >= 250, `gave up after ${took} ms, before the grace`);
      const [sleep, stubborn] = p.results;
      assert.equal(sleep!.exitInfo?.outcome, 'soft');
      assert.equal(stubborn!.stuck, true);
      assert.equal(stubborn!.failed, true);
    }),
  );

  test(
    'a stage that settles within the grace is not reported stuck',
    withLeakCheck(async () => {
      const p = pipeline({ graceMs: 2000 }).add(
        fn('slow-to-stop', async (ctx) => {
          await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));
          await new Promise<void>((r) => setTimeout(r, 50));
        }),
      );
      p.start();
      const reason = new Error('stop');
      p.abort(reason);
      const err = await p.wait().then(
        () => undefined,
        (e: unknown) => e,
      );
      // Its streams were destroyed with the reason: that, not "stuck", is its error.
      assert.ok(err instanceof PipelineError);
      assert.equal(err.cause, reason);
      assert.equal(p.results[0]!.stuck, false);
    }),
  );
});

describe('pipe: a stop is not held up by a destination that never drains', () => {
  test(
    'aborting a command that writes into a stalled Writable settles at once, nothing left open',
    withLeakCheck(async () => {
      const stalled = new Writable({
        highWaterMark: 1024,
        write() {
          // Never calls back: the destination never drains.
        },
      });
      const p = pipeline({ stdout: stalled, graceMs: 5000 }).add(command('yes'));
      p.start();
      await waitFor(() => stalled.writableLength > 0, { message: 'yes never wrote' });
      const t0 = performance.now();
      p.abort(new Error('stop'));
      const err = await p.wait().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof PipelineError);
      assert.equal(p.results[0]!.stuck, false, 'not given up on: it stopped');
      assert.ok(performance.now() - t0 < 2000, 'settled without waiting out a deadline');
      stalled.destroy();
    }),
  );
});

describe('pipe: running out of fds', () => {
  test(
    'EMFILE while starting 41 stages with 30 fds to spare is a PipelineError naming the stage, not "permission denied"',
    withLeakCheck(async () => {
      const r = await underFdLimit({ spare: 30 }, 41);
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.class, 'PipelineError');
      assert.match(String(r.stage), /^stage\d+$/);
      assert.equal(r.causeClass, 'StageStartError');
      assert.equal(r.errno, 'EMFILE', JSON.stringify(r));
      assert.equal(r.reason, 'resources');
      assert.match(String(r.message), /too many open files/);
      assert.doesNotMatch(String(r.message), /permission denied/);
    }),
  );

  test(
    'a 600-stage pipeline runs under ulimit -n 1024, as in bash',
    { timeout: 120_000 },
    withLeakCheck(async () => {
      const r = await underFdLimit({ ulimit: 1024 }, 600);
      assert.deepEqual(r, { ok: true, out: 'hello\n' });
    }),
  );
});
