/**
 * go-pipe's TestErrors: the 17 cases of which stage error a pipeline reports, plus the
 * predicates.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ClosedPipeError,
  CommandError,
  type ErrorRule,
  FinishEarly,
  fn,
  isExitCode,
  isFinishEarly,
  isPipeError,
  isSignal,
  isSigpipe,
  PipelineError,
  pipeline,
} from '../../src/pipe/index.js';
import { chooseError, failedStages } from '../../src/pipe/pipeline/choose-error.js';

const err1 = new Error('error1');
const err2 = new Error('error2');
const closed = new ClosedPipeError();
type Outcome = undefined | Error | typeof FinishEarly;

function gen(name: string, outcome: Outcome) {
  return fn(name, () => {
    if (outcome !== undefined) throw outcome;
  });
}

const N = undefined;
const F = FinishEarly;
const cases: [string, [string, Outcome][], Error | undefined][] = [
  [
    'no-error',
    [
      ['noop1', N],
      ['noop2', N],
      ['noop3', N],
    ],
    undefined,
  ],
  ['lonely-error', [['err1', err1]], err1],
  [
    'error',
    [
      ['noop1', N],
      ['err1', err1],
      ['noop2', N],
    ],
    err1,
  ],
  [
    'two-consecutive-errors',
    [
      ['noop1', N],
      ['err1', err1],
      ['err2', err2],
      ['noop2', N],
    ],
    err1,
  ],
  [
    'pipe-then-error',
    [
      ['noop1', N],
      ['pipe-error', closed],
      ['err1', err1],
      ['noop2', N],
    ],
    err1,
  ],
  [
    'error-then-pipe',
    [
      ['noop1', N],
      ['err1', err1],
      ['pipe-error', closed],
      ['noop2', N],
    ],
    err1,
  ],
  [
    'two-spaced-errors',
    [
      ['noop1', N],
      ['err1', err1],
      ['noop2', N],
      ['err2', err2],
      ['noop3', N],
    ],
    err1,
  ],
  [
    'finish-early-ignored',
    [
      ['noop1', N],
      ['fe1', F],
      ['noop2', N],
      ['fe2', F],
      ['noop3', N],
    ],
    undefined,
  ],
  [
    'error-before-finish-early',
    [
      ['err1', err1],
      ['finish-early', F],
    ],
    err1,
  ],
  [
    'error-after-finish-early',
    [
      ['finish-early', F],
      ['err1', err1],
    ],
    err1,
  ],
  [
    'pipe-then-finish-early',
    [
      ['pipe-error', closed],
      ['finish-early', F],
    ],
    undefined,
  ],
  [
    'pipe-then-two-finish-early',
    [
      ['pipe-error', closed],
      ['fe1', F],
      ['fe2', F],
    ],
    undefined,
  ],
  [
    'two-pipe-then-finish-early',
    [
      ['pe1', closed],
      ['pe2', closed],
      ['finish-early', F],
    ],
    undefined,
  ],
  [
    'pipe-then-finish-early-with-gap',
    [
      ['pipe-error', closed],
      ['noop', N],
      ['fe1', F],
    ],
    closed,
  ],
  [
    'finish-early-then-pipe',
    [
      ['finish-early', F],
      ['pipe-error', closed],
    ],
    closed,
  ],
  [
    'error-then-pipe-then-finish-early',
    [
      ['err1', err1],
      ['pipe-error', closed],
      ['fe', F],
    ],
    err1,
  ],
  [
    'pipe-then-error-then-finish-early',
    [
      ['pipe-error', closed],
      ['err1', err1],
      ['fe', F],
    ],
    err1,
  ],
];

/**
 * Where errorRule 'sluice' reports something else than go-pipe: a pipe error whose downstream
 * stages all succeeded is forgiven even without a FinishEarly right after it.
 */
const sluiceDiffers = new Map<string, Error | undefined>([
  ['pipe-then-finish-early-with-gap', undefined],
]);

function expectChosen(
  stages: [string, Outcome][],
  expected: Error | undefined,
  err: unknown,
): void {
  if (expected === undefined) {
    assert.equal(err, undefined);
  } else {
    assert.ok(err instanceof PipelineError, String(err));
    assert.equal(err.cause, expected);
    assert.equal(err.stage, stages.find(([, o]) => o === expected)![0]);
  }
}

async function runRule(stages: [string, Outcome][], errorRule?: ErrorRule) {
  const p = pipeline(errorRule ? { errorRule } : {}).add(...stages.map(([n, o]) => gen(n, o)));
  const err = await p.run().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, results: p.results };
}

describe("pipe: which error a pipeline reports, errorRule 'go-pipe' (go-pipe TestErrors)", () => {
  assert.equal(cases.length, 17);
  for (const [name, stages, expected] of cases) {
    test(name, async () => {
      const { err, results } = await runRule(stages, 'go-pipe');
      expectChosen(stages, expected, err);
      // Stage by stage, the failures agree with the verdict.
      assert.equal(
        results.some((r) => r.failed),
        expected !== undefined,
      );
      // The rule itself, on plain results, agrees.
      const chosen = chooseError(
        stages.map(([, o]) => ({ error: o })),
        'go-pipe',
      );
      assert.equal(chosen?.error, expected);
    });
  }
});

describe("pipe: which error a pipeline reports, errorRule 'sluice' (the default)", () => {
  for (const [name, stages, goPipe] of cases) {
    const expected = sluiceDiffers.has(name) ? sluiceDiffers.get(name) : goPipe;
    test(name, async () => {
      const { err, results } = await runRule(stages);
      expectChosen(stages, expected, err);
      assert.equal(
        results.some((r) => r.failed),
        expected !== undefined,
      );
      const plain = stages.map(([, o]) => ({ error: o }));
      assert.equal(chooseError(plain, 'sluice')?.error, expected);
    });
  }
  const extra: [string, [string, Outcome][], Error | undefined, Error | undefined][] = [
    // [name, stages, sluice, go-pipe]
    [
      'two-pipe-errors-then-success',
      [
        ['pe1', closed],
        ['pe2', closed],
        ['noop', N],
      ],
      undefined,
      closed,
    ],
    [
      'pipe-error-last-stage-fails',
      [
        ['noop', N],
        ['pe', closed],
      ],
      closed,
      closed,
    ],
    [
      'pipe-error-upstream-of-a-failure-reports-the-failure',
      [
        ['pe', closed],
        ['err1', err1],
      ],
      err1,
      err1,
    ],
    [
      'pipe-error-upstream-of-a-last-pipe-error',
      [
        ['pe1', closed],
        ['pe2', closed],
      ],
      closed,
      closed,
    ],
  ];
  for (const [name, stages, sluice, goPipe] of extra) {
    test(`${name} (and go-pipe's answer)`, async () => {
      const s = await runRule(stages, 'sluice');
      const g = await runRule(stages, 'go-pipe');
      if (sluice === undefined) assert.equal(s.err, undefined);
      else {
        assert.ok(s.err instanceof PipelineError);
        assert.equal(s.err.cause, sluice);
      }
      if (goPipe === undefined) assert.equal(g.err, undefined);
      else {
        assert.ok(g.err instanceof PipelineError);
        assert.equal(g.err.cause, goPipe);
      }
    });
  }
  test('failedStages marks forgiven pipe errors, FinishEarly and successes as not failed', () => {
    const plain = [closed, closed, err1, closed, N].map((error) => ({ error }));
    assert.deepEqual(failedStages(plain, 'sluice'), [true, true, true, false, false]);
    assert.deepEqual(failedStages(plain, 'go-pipe'), [true, true, true, true, false]);
    const last = [closed, N, closed].map((error) => ({ error }));
    assert.deepEqual(failedStages(last, 'sluice'), [true, false, true]);
    const fe = [closed, F, closed, N].map((error) => ({ error }));
    assert.deepEqual(failedStages(fe, 'sluice'), [false, false, false, false]);
    assert.deepEqual(failedStages(fe, 'go-pipe'), [false, false, true, false]);
  });
  test('an unknown errorRule is refused before anything starts', () => {
    assert.throws(() => pipeline({ errorRule: 'pipefail' as unknown as ErrorRule }), /errorRule/);
  });
});

describe('pipe: error predicates', () => {
  const sigpipe = new CommandError({
    stage: 'yes',
    file: 'yes',
    args: [],
    pid: 1234,
    exitCode: null,
    signal: 'SIGPIPE',
    stderrTail: '',
  });
  const exit3 = new CommandError({
    stage: 'sh',
    file: 'sh',
    args: [],
    pid: 1234,
    exitCode: 3,
    signal: null,
    stderrTail: 'line one\nline two\n',
  });
  test('messages name the stage, the exit or signal, and the stderr tail', () => {
    assert.equal(sigpipe.message, 'yes: killed by signal SIGPIPE');
    assert.equal(exit3.message, 'sh: exit status 3: line one\nline two');
    const wrapped = new PipelineError('sh', 2, exit3);
    assert.equal(wrapped.message, 'sh: exit status 3: line one\nline two');
    assert.equal(wrapped.exitCode, 3);
    assert.equal(wrapped.stageIndex, 2);
  });
  test('isPipeError: SIGPIPE, EPIPE, closed pipes, destroyed streams; through causes', () => {
    assert.ok(isPipeError(sigpipe));
    assert.ok(isPipeError(new ClosedPipeError()));
    assert.ok(isPipeError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
    assert.ok(isPipeError(new Error('outer', { cause: new ClosedPipeError() })));
    assert.ok(isPipeError(new PipelineError('yes', 0, sigpipe)));
    assert.ok(!isPipeError(exit3));
    assert.ok(!isPipeError(new Error('x')));
    assert.ok(!isPipeError(undefined));
  });
  test('isSigpipe, isSignal, isExitCode, isFinishEarly', () => {
    assert.ok(isSigpipe(sigpipe));
    assert.ok(!isSigpipe(exit3));
    assert.ok(isSignal('SIGPIPE')(sigpipe));
    assert.ok(!isSignal('SIGTERM')(sigpipe));
    assert.ok(isExitCode(3)(exit3));
    assert.ok(isExitCode()(exit3));
    assert.ok(!isExitCode(1)(exit3));
    assert.ok(!isExitCode()(sigpipe));
    assert.ok(isFinishEarly(FinishEarly));
    assert.ok(isFinishEarly(new FinishEarly()));
    assert.ok(!isFinishEarly(err1));
  });
});
