/**
 * go-pipe's pipeline_test.go, ported: outputs, stdin handling, slow readers, exits, stderr,
 * cancellation, EPIPE, functions in every position, empty pipelines, start failures.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  CommandError,
  command,
  fn,
  InvalidOptionError,
  ignoreError,
  isSigpipe,
  PipelineError,
  PipeUsageError,
  pipeline,
  print,
  println,
  type Stage,
  StageStartError,
} from '../../src/pipe/index.js';
import { createPipe } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

/** A Writable that records what it got and whether it was ended. */
export function recorder(): Writable & { text(): string; ended: boolean } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
    final(cb) {
      (w as unknown as { ended: boolean }).ended = true;
      cb();
    },
  }) as Writable & { text(): string; ended: boolean };
  w.ended = false;
  w.text = () => Buffer.concat(chunks).toString();
  return w;
}

/** A stage that fails to start with `error`, closing what it was given (go-pipe's ErrorStartingStage). */
export function failingStage(error: Error, name = 'errorStartingStage'): Stage {
  return {
    name,
    preferences: { stdin: 'any', stdout: 'any' },
    start(_ctx, stdin, stdout) {
      stdin.close();
      stdout.close();
      throw error;
    },
    wait: () => Promise.resolve(),
  };
}

function seqFn(n: number): Stage {
  return fn('seq', async (_ctx, _stdin, stdout) => {
    for (let i = 1; i <= n; i++) {
      if (!stdout.write(`${i}\n`)) await new Promise((r) => stdout.once('drain', r));
    }
  });
}

describe('pipe: pipelines (go-pipe pipeline_test)', () => {
  test('an empty pipeline runs and does nothing', async () => {
    await pipeline().run();
  });

  test('an empty pipeline copies stdin to stdout', async () => {
    const out = recorder();
    await pipeline({ stdin: 'hello world\n', stdout: out }).run();
    assert.equal(out.text(), 'hello world\n');
    assert.equal(out.ended, false, 'a borrowed stdout is not ended');
  });

  test('an empty pipeline copies stdin to output()', async () => {
    const out = await pipeline({ stdin: 'hello world\n' }).output();
    assert.equal(out.toString(), 'hello world\n');
  });

  test('an empty pipeline with closeStdout ends the destination', async () => {
    const out = recorder();
    await pipeline({ stdin: 'hello world\n', stdout: out, closeStdout: true }).run();
    assert.equal(out.text(), 'hello world\n');
    assert.equal(out.ended, true);
  });

  test(
    'first stage fails to start: its error, the second never starts',
    withLeakCheck(async () => {
      const boom = new Error('foo');
      let secondStarted = false;
      const second: Stage = {
        ...failingStage(new Error('never')),
        start: () => {
          secondStarted = true;
        },
      };
      const err = await pipeline()
        .add(failingStage(boom), second)
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal(err.cause, boom);
      assert.equal(err.stage, 'errorStartingStage');
      assert.equal(secondStarted, false);
    }),
  );

  test(
    'first stage fails to start: a closeStdout destination is closed',
    withLeakCheck(async () => {
      const out = recorder();
      const err = await pipeline({ stdout: out, closeStdout: true })
        .add(failingStage(new Error('foo')), command('this-stage-should-not-start'))
        .run()
        .catch((e) => e);
      assert.equal((err as PipelineError).cause instanceof Error, true);
      assert.match((err as Error).message, /foo/);
      await waitFor(() => out.ended);
    }),
  );

  test(
    'second stage fails to start: the first (a writer) is stopped and reaped',
    withLeakCheck(async () => {
      const boom = new Error('foo');
      const err = await pipeline()
        .add(seqFn(20000), failingStage(boom))
        .run()
        .catch((e) => e);
      assert.equal((err as PipelineError).cause, boom);
    }),
  );

  for (const [where, stages] of [
    ['first', () => [command('nonexistent-cmd-sluice'), command('cat'), command('cat')]],
    ['middle', () => [command('yes'), command('nonexistent-cmd-sluice'), command('cat')]],
    ['last', () => [command('yes'), command('cat'), command('nonexistent-cmd-sluice')]],
  ] as const) {
    test(
      `a nonexistent command ${where}: StageStartError naming it, nothing left behind`,
      withLeakCheck(async () => {
        const p = pipeline().add(...stages());
        const err = await p.run().catch((e) => e);
        assert.ok(err instanceof PipelineError, String(err));
        assert.equal(err.stage, 'nonexistent-cmd-sluice');
        assert.ok(err.cause instanceof StageStartError);
        assert.equal((err.cause as StageStartError).errno, 'ENOENT');
        assert.match(err.message, /nonexistent-cmd-sluice: command not found/);
      }),
    );
  }

  test(
    'a bad cwd is a StageStartError naming the stage',
    withLeakCheck(async () => {
      const err = await pipeline({ cwd: '/nonexistent/sluice' })
        .add(command('echo', ['hi']))
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal((err.cause as StageStartError).errno, 'ENOENT');
      assert.match(err.message, /^echo: cwd does not exist: \/nonexistent\/sluice$/);
    }),
  );

  test('an empty argv, a non-string or a NUL in argv is an InvalidOptionError at once', () => {
    assert.throws(() => command(''), { name: 'InvalidOptionError', option: 'file' });
    assert.throws(() => command('echo', [1 as unknown as string]), {
      name: 'InvalidOptionError',
      option: 'args[0]',
    });
    assert.throws(() => command('echo', ['a', 'b\0c']), InvalidOptionError);
    assert.throws(() => command('ec\0ho'), InvalidOptionError);
  });

  test(
    'a single command’s output',
    withLeakCheck(async () => {
      assert.equal(
        await pipeline()
          .add(command('echo', ['hello world']))
          .text(),
        'hello world\n',
      );
    }),
  );

  test(
    'a single command writing into a Writable (pooled copy), not ended',
    withLeakCheck(async () => {
      const out = recorder();
      await pipeline({ stdout: out })
        .add(command('echo', ['hello world']))
        .run();
      assert.equal(out.text(), 'hello world\n');
      assert.equal(out.ended, false);
    }),
  );

  test(
    'stdin that is a pipe never closed: a command that does not read it still ends',
    withLeakCheck(async () => {
      const pair = createPipe();
      try {
        await pipeline({ stdin: pair.readFd, signal: AbortSignal.timeout(5000) })
          .add(command('true'))
          .run();
      } finally {
        pair.close();
      }
    }),
  );

  test(
    'stdin that is a stream never ended: a command that does not read it still ends',
    withLeakCheck(async () => {
      // go-pipe skips this case (it deadlocks there): here the pump lets go when the child exits.
      const never = new PassThrough();
      await pipeline({ stdin: never, signal: AbortSignal.timeout(5000) })
        .add(command('true'))
        .run();
      assert.equal(never.destroyed, false, 'the caller’s stream is not destroyed');
      never.destroy();
    }),
  );

  test(
    'a nontrivial pipeline: echo | sed',
    withLeakCheck(async () => {
      const out = await pipeline()
        .add(command('echo', ['hello world']), command('sed', ['s/hello/goodbye/']))
        .text();
      assert.equal(out, 'goodbye world\n');
    }),
  );

  test(
    'a slow reader of a closeStdout pipe fd gets everything',
    withLeakCheck(async () => {
      const pair = createPipe();
      const { createReadStream } = await import('node:fs');
      await pipeline({ stdout: pair.writeFd, closeStdout: true })
        .add(command('echo', ['hello world']))
        .run();
      // The pipeline is done; the reader only now starts reading, and sees EOF after the data.
      const chunks: Buffer[] = [];
      for await (const c of createReadStream('', { fd: pair.readFd })) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'hello world\n');
    }),
  );

  test(
    'a slow reader of a Writable (one byte per tick) gets all 292 bytes of seq 100',
    withLeakCheck(async () => {
      let got = '';
      const slow = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, cb) {
          let i = 0;
          const step = () => {
            if (i >= chunk.length) return cb();
            got += String.fromCharCode(chunk[i++]!);
            setImmediate(step);
          };
          step();
        },
      });
      await pipeline({ stdout: slow, signal: AbortSignal.timeout(10000) })
        .add(command('seq', ['100']))
        .run();
      assert.equal(got.length, 292);
    }),
  );

  test('adding a stage after start, or starting twice, is a PipeUsageError', async () => {
    const p = pipeline().add(print('x'));
    await p.run();
    assert.throws(() => p.add(print('y')), PipeUsageError);
    assert.throws(() => p.start(), PipeUsageError);
  });

  test(
    'cwd is honoured',
    withLeakCheck(async () => {
      const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pipetest-')));
      try {
        assert.equal(await pipeline({ cwd: dir }).add(command('pwd')).text(), `${dir}\n`);
        // A stage's relative cwd is resolved against the pipeline's.
        const sub = join(dir, 'sub');
        (await import('node:fs')).mkdirSync(sub);
        assert.equal(
          await pipeline({ cwd: dir })
            .add(command('pwd', [], { cwd: 'sub' }))
            .text(),
          `${sub}\n`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'env is layered: process.env, then the pipeline’s, then the stage’s; undefined removes',
    withLeakCheck(async () => {
      process.env.SLUICE_T_BASE = 'base';
      try {
        const out = await pipeline({ env: { SLUICE_T_A: 'p', SLUICE_T_B: 'p' } })
          .add(
            command(
              'sh',
              ['-c', 'echo "$SLUICE_T_BASE $SLUICE_T_A $SLUICE_T_B \u0024{SLUICE_T_BASE2-unset}"'],
              {
                env: { SLUICE_T_B: 's', SLUICE_T_BASE2: undefined },
              },
            ),
          )
          .text();
        assert.equal(out, 'base p s unset\n');
      } finally {
        delete process.env.SLUICE_T_BASE;
      }
    }),
  );

  test(
    'false | true fails with "false: exit status 1"',
    withLeakCheck(async () => {
      const err = await pipeline()
        .add(command('false'), command('true'))
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal(err.message, 'false: exit status 1');
      assert.equal(err.exitCode, 1);
      assert.equal(err.stage, 'false');
    }),
  );

  test(
    'stderr is captured: the error ends with its tail',
    withLeakCheck(async () => {
      const err = await pipeline()
        .add(command('ls', ['/nonexistent-sluice-dir']))
        .output()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.match(err.message, /^ls: exit status 2: .*nonexistent-sluice-dir/);
      assert.match(err.stderrTail, /No such file or directory/);
    }),
  );

  for (const kind of ['timeout', 'abort'] as const) {
    test(
      `${kind}: sleep and its grandchildren are killed; the error is the abort reason`,
      withLeakCheck(async () => {
        const controller = new AbortController();
        const signal = kind === 'timeout' ? AbortSignal.timeout(100) : controller.signal;
        const p = pipeline({ signal }).add(
          command('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { name: 'sleepers' }),
        );
        const t0 = performance.now();
        p.start();
        if (kind === 'abort') controller.abort();
        const err = await p.wait().catch((e) => e);
        assert.ok(err instanceof PipelineError);
        assert.equal(err.stage, 'sleepers');
        assert.equal(err.cause, signal.reason);
        assert.equal((err.cause as Error).name, kind === 'timeout' ? 'TimeoutError' : 'AbortError');
        assert.ok(performance.now() - t0 < 1900, 'ended by SIGTERM, before the SIGKILL grace');
        // The grandchildren (re-parented away from us) are gone too.
        const pid = p.results[0]!.pid!;
        const { groupAlive } = await import('../../src/proc/index.js');
        assert.equal(groupAlive(pid), false);
      }),
    );
  }

  test(
    'a command that ignores SIGTERM is SIGKILLed after killGraceMs',
    withLeakCheck(async () => {
      const controller = new AbortController();
      const p = pipeline({ signal: controller.signal, killGraceMs: 200 }).add(
        command('sh', ['-c', 'trap "" TERM; echo ready; sleep 30 & wait']),
      );
      const lines = p.lines()[Symbol.asyncIterator]();
      assert.equal((await lines.next()).value, 'ready');
      const t0 = performance.now();
      controller.abort();
      await assert.rejects(
        lines.next(),
        (e: unknown) => (e as PipelineError).cause === controller.signal.reason,
      );
      const took = performance.now() - t0;
      assert.ok(took >= 150, `killed after the grace (${took} ms)`);
    }),
  );

  test(
    'little EPIPE: unread output fits the pipe buffer: "sh: killed by signal SIGPIPE" (go-pipe rule)',
    withLeakCheck(async () => {
      const err = await pipeline({ errorRule: 'go-pipe' })
        .add(command('sh', ['-c', 'sleep 0.2; echo foo']), command('true'))
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal(err.message, 'sh: killed by signal SIGPIPE');
      assert.equal(err.signal, 'SIGPIPE');
      // The default rule forgives it: `true` downstream succeeded.
      const p = pipeline().add(command('sh', ['-c', 'sleep 0.2; echo foo']), command('true'));
      await p.run();
      assert.equal(p.results[0]!.signal, 'SIGPIPE');
      assert.equal(p.results[0]!.failed, false);
    }),
  );

  test(
    'big EPIPE: seq 1000000 | true: "seq: killed by signal SIGPIPE" (go-pipe rule)',
    withLeakCheck(async () => {
      await pipeline()
        .add(command('seq', ['1000000']), command('true'))
        .run();
      const err = await pipeline({ errorRule: 'go-pipe' })
        .add(command('seq', ['1000000']), command('true'))
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal(err.message, 'seq: killed by signal SIGPIPE');
      assert.ok(err.cause instanceof CommandError);
    }),
  );

  test(
    'ignored SIGPIPE: ignoreError(seq, isSigpipe) | echo foo',
    withLeakCheck(async () => {
      const out = await pipeline()
        .add(ignoreError(command('seq', ['100000']), isSigpipe), command('echo', ['foo']))
        .text();
      assert.equal(out, 'foo\n');
    }),
  );

  test(
    'yes | head -1 ends at once, yes reported killed by SIGPIPE (go-pipe rule)',
    withLeakCheck(async () => {
      const t0 = performance.now();
      const p = pipeline({ errorRule: 'go-pipe' }).add(command('yes'), command('head', ['-1']));
      const err = await p.text().catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal(err.message, 'yes: killed by signal SIGPIPE');
      assert.ok(performance.now() - t0 < 3000);
      assert.equal(p.results[1]!.exitCode, 0);
    }),
  );

  test('println / print', async () => {
    assert.equal(
      await pipeline().add(println('Look Ma, no hands!')).text(),
      'Look Ma, no hands!\n',
    );
    assert.equal(
      await pipeline()
        .add(print('a', 1, true))
        .text(),
      'a1true',
    );
    await pipeline().add(println('no output')).run();
  });

  test('println forbids stdin: from the pipeline and from a previous stage', async () => {
    await assert.rejects(
      pipeline({ stdin: 'ignored' }).add(println('x')).run(),
      /stage "println" forbids stdin, but stdin is connected/,
    );
    await assert.rejects(
      pipeline().add(seqFn(1), println('x')).run(),
      /stage "println" forbids stdin/,
    );
  });

  test('fn options forbid streams; validation runs before any stage starts', async () => {
    let started = false;
    const first = fn('first', () => {
      started = true;
    });
    await assert.rejects(
      pipeline()
        .add(
          first,
          fn('source', () => {}, { stdin: 'none' }),
        )
        .run(),
      /stage "source" forbids stdin/,
    );
    assert.equal(started, false);
    const out = recorder();
    await assert.rejects(
      pipeline({ stdout: out, closeStdout: true })
        .add(fn('sink', () => {}, { stdout: 'none' }))
        .run(),
      /stage "sink" forbids stdout/,
    );
    assert.equal(out.ended, true, 'a closeStdout destination is closed even then');
    // Forbidding works when nothing is connected.
    await pipeline()
      .add(fn('sink', () => {}, { stdout: 'none' }))
      .run();
    assert.throws(
      () => fn('bad', () => {}, { stdin: 'pipe' as never }),
      /invalid stream preference pipe/,
    );
  });

  test('a hand-written stage with an invalid preference is refused', async () => {
    const bad: Stage = {
      ...failingStage(new Error('x'), 'invalid'),
      preferences: { stdin: 99 as never, stdout: 'any' },
    };
    await assert.rejects(
      pipeline().add(bad).run(),
      /stage "invalid": stdin: invalid stream preference 99/,
    );
  });
});
