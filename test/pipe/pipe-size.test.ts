/**
 * `pipeSize`: by default the pipes between two commands are enlarged (pipe-max-size, at most
 * 1 MiB) within a per-process budget; pipes next to a function keep the kernel's size; `0` turns
 * it off; a number applies to every kernel pipe.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fn,
  type InputStream,
  type OutputStream,
  type PipelineOptions,
  pipeline,
  type Stage,
} from '../../src/pipe/index.js';
import { AUTO_BUDGET_BYTES, autoPipeSize } from '../../src/pipe/pipeline/pipe-size.js';
import { pipeBufferSize } from '../../src/proc/index.js';

const KERNEL_DEFAULT = 64 * 1024;

/** A stage that prefers fds (as a command does) and records its pipes' buffer sizes. */
function fdSpy(seen: (number | undefined)[][]): Stage {
  return {
    name: 'spy',
    preferences: { stdin: 'fd', stdout: 'fd' },
    start(_ctx, stdin: InputStream, stdout: OutputStream) {
      seen.push([
        stdin.kind === 'fd' ? pipeBufferSize(stdin.fd) : undefined,
        stdout.kind === 'fd' ? pipeBufferSize(stdout.fd) : undefined,
      ]);
      stdin.close();
      stdout.close();
    },
    wait: () => Promise.resolve(),
  };
}

async function sizes(
  options: PipelineOptions,
  stages: (seen: (number | undefined)[][]) => Stage[],
) {
  const seen: (number | undefined)[][] = [];
  await pipeline(options)
    .add(...stages(seen))
    .run();
  return seen;
}

const linux = process.platform === 'linux' && autoPipeSize() > KERNEL_DEFAULT;

describe('pipe: pipe sizes', { skip: !linux && 'needs Linux with pipe-max-size > 64 KiB' }, () => {
  test('by default, pipes between two commands are enlarged to pipe-max-size (at most 1 MiB)', async () => {
    const seen = await sizes({}, (s) => [fdSpy(s), fdSpy(s), fdSpy(s)]);
    const big = autoPipeSize();
    assert.ok(big <= 1024 * 1024);
    assert.deepEqual(seen, [
      [undefined, big],
      [big, big],
      [big, undefined],
    ]);
  });

  test('a pipe next to a function keeps the kernel size', async () => {
    const seen = await sizes({}, (s) => [
      fdSpy(s),
      fn('f', async (_ctx, stdin) => {
        for await (const _ of stdin);
      }),
      fdSpy(s),
    ]);
    assert.deepEqual(seen, [
      [undefined, KERNEL_DEFAULT],
      [KERNEL_DEFAULT, undefined],
    ]);
  });

  test('pipeSize: 0 keeps the kernel size; a number sets every kernel pipe', async () => {
    assert.deepEqual(await sizes({ pipeSize: 0 }, (s) => [fdSpy(s), fdSpy(s)]), [
      [undefined, KERNEL_DEFAULT],
      [KERNEL_DEFAULT, undefined],
    ]);
    assert.deepEqual(await sizes({ pipeSize: 256 * 1024 }, (s) => [fdSpy(s), fdSpy(s)]), [
      [undefined, 256 * 1024],
      [256 * 1024, undefined],
    ]);
  });

  test('past the per-process budget, pipes keep the kernel size; the budget comes back', async () => {
    const per = autoPipeSize();
    const room = Math.floor(AUTO_BUDGET_BYTES / per);
    const seen = await sizes({}, (s) => Array.from({ length: room + 3 }, () => fdSpy(s)));
    const out = seen.map((r) => r[1]).slice(0, -1);
    assert.equal(out.filter((n) => n === per).length, room);
    assert.deepEqual(out.slice(room), [KERNEL_DEFAULT, KERNEL_DEFAULT]);
    // Released when the pipeline ended: the next one is enlarged again.
    const again = await sizes({}, (s) => [fdSpy(s), fdSpy(s)]);
    assert.equal(again[0]![1], per);
  });
});
