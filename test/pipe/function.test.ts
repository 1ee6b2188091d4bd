/**
 * Function stages in every position, linewise and scanner stages, FinishEarly, the stage-error
 * handler (go-pipe's panic handler) through wrappers, output()/lines()/maxBuffer, pooled copies.
 */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  command,
  FinishEarly,
  filterError,
  fn,
  ignoreError,
  isPipeError,
  linewise,
  MaxBufferError,
  PipelineError,
  pipeline,
  print,
  println,
  type Stage,
  scanner,
  write,
} from '../../src/pipe/index.js';
import { copyPoolStats } from '../../src/pipe/pipeline/copy-pool.js';
import { withLeakCheck } from '../helpers/leaks.js';

const upper = () =>
  fn('upper', async (_ctx, stdin, stdout) => {
    for await (const chunk of stdin) stdout.write(String(chunk).toUpperCase());
  });

function seqFn(n: number): Stage {
  return fn('seq', async (_ctx, _stdin, stdout) => {
    for (let i = 1; i <= n; i++) await write(stdout, `${i}\n`);
  });
}

/** Counts the bytes it reads (go-pipe's compute-length stage). */
function lengthOf(into: { n: number }): Stage {
  return fn('compute-length', async (_ctx, stdin) => {
    for await (const c of stdin) into.n += (c as Buffer).length;
  });
}

describe('pipe: function stages', () => {
  test('print | fn: reads all, writes', async () => {
    const out = await pipeline()
      .add(
        print('hello world'),
        fn('farewell', async (_ctx, stdin, stdout) => {
          let text = '';
          for await (const c of stdin) text += c;
          assert.equal(text, 'hello world');
          stdout.write('goodbye, cruel world');
        }),
      )
      .text();
    assert.equal(out, 'goodbye, cruel world');
  });

  test(
    'command | fn | command',
    withLeakCheck(async () => {
      const out = await pipeline()
        .add(command('echo', ['-n', 'hello world']), upper(), command('tr', ['O', '0']))
        .text();
      assert.equal(out, 'HELL0 W0RLD');
    }),
  );

  test(
    'fn first, fn last, fn between functions, fn between commands',
    withLeakCheck(async () => {
      assert.equal(await pipeline().add(println('a'), command('cat')).text(), 'a\n');
      assert.equal(
        await pipeline()
          .add(command('echo', ['b']), upper())
          .text(),
        'B\n',
      );
      assert.equal(await pipeline().add(println('c'), upper(), upper()).text(), 'C\n');
      assert.equal(
        await pipeline().add(println('d'), command('cat'), upper(), command('cat'), upper()).text(),
        'D\n',
      );
    }),
  );

  test(
    'a function reads a command’s output with backpressure (1 MB through fn)',
    withLeakCheck(async () => {
      const len = { n: 0 };
      await pipeline()
        .add(command('head', ['-c', '1000000', '/dev/zero']), lengthOf(len))
        .run();
      assert.equal(len.n, 1_000_000);
    }),
  );

  test('a function with no stdin reads an empty stream', async () => {
    let n = -1;
    await pipeline()
      .add(
        fn('read-all', async (_ctx, stdin) => {
          n = 0;
          for await (const c of stdin) n += (c as Buffer).length;
        }),
      )
      .run();
    assert.equal(n, 0);
  });

  test('a function gets the pipeline env and cwd, with its own over them', async () => {
    const out = await pipeline({ env: { SLUICE_FN_T: 'v' }, cwd: '/tmp' })
      .add(
        fn('env', (ctx, _stdin, stdout) => {
          stdout.write(`${ctx.env.SLUICE_FN_T} ${ctx.cwd} ${typeof ctx.env.PATH}`);
        }),
      )
      .text();
    assert.equal(out, 'v /tmp string');
    const own = await pipeline({ env: { SLUICE_FN_T: 'v', SLUICE_FN_U: 'u' }, cwd: '/tmp' })
      .add(
        fn(
          'env',
          (ctx, _stdin, stdout) => {
            stdout.write(`${ctx.env.SLUICE_FN_T} ${ctx.env.SLUICE_FN_U ?? '-'} ${ctx.cwd}`);
          },
          { env: { SLUICE_FN_T: 'w', SLUICE_FN_U: undefined }, cwd: 'sub' },
        ),
      )
      .text();
    assert.equal(own, 'w - /tmp/sub');
  });

  test(
    'a function that ignores the abort signal is unblocked: its streams are destroyed',
    withLeakCheck(async () => {
      const controller = new AbortController();
      const p = pipeline({ signal: controller.signal }).add(
        command('sleep', ['30']),
        fn('reader', async (_ctx, stdin) => {
          for await (const _ of stdin) {
            // never gets data
          }
        }),
      );
      p.start();
      controller.abort();
      const err = await p.wait().catch((e) => e);
      assert.ok(err instanceof PipelineError);
      assert.equal(err.cause, controller.signal.reason);
    }),
  );

  test(
    'a downstream function that stops reading gives upstream functions ClosedPipeError',
    withLeakCheck(async () => {
      // Forgiven by the default rule (the stage downstream succeeded), reported by go-pipe's.
      const p = pipeline().add(
        seqFn(1_000_000),
        fn('stop', () => {}),
      );
      await p.run();
      assert.ok(isPipeError(p.results[0]!.error));
      assert.equal(p.results[0]!.failed, false);
      const err = await pipeline({ errorRule: 'go-pipe' })
        .add(
          seqFn(1_000_000),
          fn('stop', () => {}),
        )
        .run()
        .catch((e) => e);
      assert.ok(err instanceof PipelineError, String(err));
      assert.equal(err.stage, 'seq');
      assert.ok(isPipeError(err));
    }),
  );
});

describe('pipe: linewise and scanner', () => {
  test('linewise and scanner (go-pipe TestPipelineWithLinewiseFunction)', async () => {
    const out = await pipeline()
      .add(
        seqFn(20),
        linewise('multiples-of-5', (line) => (Number(line) % 5 === 0 ? line : undefined)),
        // Joins the lines into one, then splits into words again.
        fn('join', async (_ctx, stdin, stdout) => {
          let t = '';
          for await (const c of stdin) t += c;
          stdout.write(t.split('\n').join(' '));
        }),
        scanner('square', 'words', (w) => String(Number(w) ** 2)),
      )
      .text();
    assert.equal(out, '25\n100\n225\n400\n');
  });

  test('linewise: several lines, none, async callbacks, push, the last line without newline', async () => {
    const out = await pipeline({ stdin: 'a\nb\n\nc' })
      .add(
        linewise('t', async (line, ctx) => {
          if (line === 'a') return ['a1', 'a2'];
          if (line === 'b') return undefined;
          ctx.push(`#${ctx.lineNumber}`);
          return line;
        }),
      )
      .text();
    assert.equal(out, 'a1\na2\n#3\n\n#4\nc\n');
  });

  test('linewise keeps multi-byte characters split across chunks intact', async () => {
    const src = new PassThrough();
    const p = pipeline({ stdin: src })
      .add(linewise('id', (l) => l))
      .text();
    const bytes = Buffer.from('héllo wörld\n');
    for (const b of bytes) src.write(Buffer.from([b]));
    src.end();
    assert.equal(await p, 'héllo wörld\n');
  });

  test('scanner: a string separator, a RegExp, a function', async () => {
    const run = (split: Parameters<typeof scanner>[1], input: string) =>
      pipeline({ stdin: input })
        .add(scanner('s', split, (t) => `[${t}]`))
        .text();
    assert.equal(await run(',', 'a,b,,c'), '[a]\n[b]\n[]\n[c]\n');
    assert.equal(await run(/[,;]+/, 'a,;b;c;'), '[a]\n[b]\n[c]\n');
    assert.equal(
      await run((text, eof) => {
        const tokens = text.match(/.{1,2}/g) ?? [];
        const rest = !eof && tokens.length && tokens.at(-1)!.length < 2 ? tokens.pop()! : '';
        return { tokens, rest };
      }, 'abcde'),
      '[ab]\n[cd]\n[e]\n',
    );
  });

  test('what was written before an error still reaches the next stage (TestScannerAlwaysFlushes)', async () => {
    const len = { n: 0 };
    await pipeline()
      .add(
        ignoreError(seqFn(20), isPipeError),
        ignoreError(
          linewise('error-after-7', (line, ctx) => {
            ctx.push(line);
            if (line === '7') throw new Error('ignore');
          }),
          (e) => (e as Error).message === 'ignore',
        ),
        lengthOf(len),
      )
      .run();
    assert.equal(len.n, 14);
  });

  test('FinishEarly from linewise flushes and forgives upstream (TestScannerFinishEarly)', async () => {
    const len = { n: 0 };
    await pipeline()
      .add(
        seqFn(100_000),
        linewise('finish-after-7', (line, ctx) => {
          ctx.push(line);
          if (line === '7') throw FinishEarly;
        }),
        lengthOf(len),
      )
      .run();
    assert.equal(len.n, 14);
  });

  test(
    'FinishEarly after a command: the command’s SIGPIPE is forgiven',
    withLeakCheck(async () => {
      const out = await pipeline()
        .add(
          command('yes'),
          linewise('first-3', (line, ctx) => {
            if (ctx.lineNumber === 3) throw new FinishEarly();
            return line;
          }),
        )
        .text();
      assert.equal(out, 'y\ny\n');
    }),
  );
});

describe('pipe: the stage-error handler (go-pipe panic handler)', () => {
  const thrower = () =>
    fn('farewell', () => {
      throw new TypeError('this is a panic');
    });
  const handler = (e: unknown, stage: string) =>
    new Error(`panic handled in ${stage}: ${(e as Error).message}`);

  test('turns an exception into the stage error', async () => {
    const err = await pipeline({ onStageError: handler })
      .add(print('hello world'), thrower())
      .output()
      .catch((e) => e);
    assert.match((err as Error).message, /panic handled in farewell: this is a panic/);
  });

  test('reaches a stage wrapped in ignoreError and filterError', async () => {
    for (const wrap of [
      (s: Stage) => ignoreError(s, () => false),
      (s: Stage) => filterError(s, (e) => e),
      (s: Stage) =>
        filterError(
          ignoreError(s, () => false),
          (e) => e,
        ),
    ]) {
      const err = await pipeline({ onStageError: handler })
        .add(print('hello world'), wrap(thrower()))
        .output()
        .catch((e) => e);
      assert.match((err as Error).message, /panic handled/);
    }
  });

  test('returning undefined makes the stage succeed; linewise exceptions reach it too', async () => {
    const seen: unknown[] = [];
    const out = await pipeline({
      onStageError: (e) => {
        seen.push(e);
        return undefined;
      },
    })
      .add(
        println('x'),
        linewise('boom', () => {
          throw new RangeError('bad line');
        }),
      )
      .text();
    assert.equal(out, '');
    assert.equal((seen[0] as Error).message, 'bad line');
  });

  test('without a handler the exception is the stage error as thrown', async () => {
    const err = await pipeline()
      .add(thrower())
      .run()
      .catch((e) => e);
    assert.ok((err as PipelineError).cause instanceof TypeError);
  });
});

describe('pipe: output, text, lines', () => {
  test(
    'output() past maxBuffer: MaxBufferError, the pipeline stopped',
    withLeakCheck(async () => {
      const err = await pipeline({ maxBuffer: 1000 })
        .add(command('yes'))
        .output()
        .catch((e) => e);
      assert.ok(err instanceof MaxBufferError, String(err));
      assert.equal(err.maxBuffer, 1000);
    }),
  );

  test(
    'output() needs a pipeline without stdout',
    withLeakCheck(async () => {
      await assert.rejects(
        pipeline({ stdout: new PassThrough() }).add(println('x')).output(),
        /need a pipeline without a stdout option/,
      );
    }),
  );

  test(
    'lines() streams: 200,000 lines are counted without buffering them all',
    withLeakCheck(async () => {
      let n = 0;
      let last = '';
      for await (const line of pipeline()
        .add(command('seq', ['200000']))
        .lines()) {
        n++;
        last = line;
      }
      assert.equal(n, 200_000);
      assert.equal(last, '200000');
    }),
  );

  test(
    'lines(): leaving early stops the pipeline and reports nothing',
    withLeakCheck(async () => {
      const p = pipeline().add(command('yes'), command('cat'));
      const got: string[] = [];
      for await (const line of p.lines()) {
        got.push(line);
        if (got.length === 3) break;
      }
      assert.deepEqual(got, ['y', 'y', 'y']);
      assert.equal(p.results.length, 2);
    }),
  );

  test(
    'lines(): a failing pipeline throws after the lines, CRLF is stripped',
    withLeakCheck(async () => {
      const got: string[] = [];
      await assert.rejects(async () => {
        for await (const l of pipeline()
          .add(command('sh', ['-c', 'printf "a\\r\\nb"; exit 3']))
          .lines()) {
          got.push(l);
        }
      }, /sh: exit status 3/);
      assert.deepEqual(got, ['a', 'b']);
    }),
  );

  test(
    'events: start and exit of every stage, with durations',
    withLeakCheck(async () => {
      const events: { type: string; stage: string; durationMs?: number }[] = [];
      await pipeline({ onEvent: (e) => events.push(e as (typeof events)[number]) })
        .add(command('echo', ['x']), command('cat'))
        .run();
      assert.deepEqual(events.map((e) => `${e.type}:${e.stage}`).sort(), [
        'stage-exit:cat',
        'stage-exit:echo',
        'stage-start:cat',
        'stage-start:echo',
      ]);
      for (const e of events) if (e.type === 'stage-exit') assert.ok(e.durationMs! >= 0);
    }),
  );

  test(
    'a command writing into a non-fd Writable reuses pooled 64 KiB buffers',
    withLeakCheck(async () => {
      const sink = () =>
        new Writable({
          write(_c, _e, cb) {
            cb();
          },
        });
      // Warm up, then the pool must not grow while copying ~20 MB through 20 pipelines.
      const { createWriteStream } = await import('node:fs');
      const devnull = () => createWriteStream('/dev/null');
      for (const make of [sink, devnull]) {
        await pipeline({ stdout: make(), closeStdout: true })
          .add(command('head', ['-c', '1000000', '/dev/zero']))
          .run();
      }
      const before = copyPoolStats().created;
      for (let i = 0; i < 20; i++) {
        // An fs.WriteStream not yet open has no fd: its output is copied, and the buffers recycled.
        await pipeline({ stdout: devnull(), closeStdout: true })
          .add(command('head', ['-c', '1000000', '/dev/zero']))
          .run();
      }
      const grew = copyPoolStats().created - before;
      // Without the pool each of the ~300 reads would allocate. With it the pool grows only to
      // the most buffers ever in flight at once, which a loaded machine can raise by a few
      // (6 seen on Node 24 under load); one per pipeline still rules out per-read allocation.
      assert.ok(grew <= 20, `the pool made ${grew} new buffers for 20 MB (about 300 reads)`);
      assert.equal(copyPoolStats().bufferSize, 64 * 1024);
    }),
  );
});
