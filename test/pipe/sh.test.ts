/**
 * The `sh` template: a script in the shell language with values as words; the result and its
 * conveniences (Bun's and zx's), the Pipeline surface it keeps, the status rule, values as
 * redirection sources and targets, cancellation and early exit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  linewise,
  MaxBufferError,
  Pipeline,
  PipelineError,
  PipeUsageError,
  ShellExitError,
  ShellPipeline,
  ShellValueError,
  ShSyntaxError,
  sh,
} from '../../src/pipe/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'pipetest-sh-'));
}

describe('pipe: the sh template', () => {
  test(
    'await gives a result: exitCode, stdout, stderr, text(), json(), lines()',
    withLeakCheck(async () => {
      const r = await sh`echo '{"a": [1, 2]}'; echo warn >&2`;
      assert.equal(r.exitCode, 0);
      assert.deepEqual(r.json(), { a: [1, 2] });
      assert.equal(r.text(), '{"a": [1, 2]}\n');
      assert.equal(r.stderr.toString(), 'warn\n');
      assert.deepEqual((await sh`printf 'a\nb\n'`).lines(), ['a', 'b']);
      assert.deepEqual(await sh`echo '[3]'`.json(), [3]);
      const q = sh`echo quiet`;
      assert.equal(q.quiet(), q);
      assert.equal((await q).stdout.toString(), 'quiet\n');
    }),
  );

  test(
    'a failure rejects with a ShellExitError (a PipelineError) naming the command; nothrow resolves',
    withLeakCheck(async () => {
      const e = await sh`echo out; sh -c ${'echo oops >&2; exit 3'} | cat`.catch((x: unknown) => x);
      assert.ok(e instanceof ShellExitError && e instanceof PipelineError);
      assert.equal(e.stage, 'sh');
      assert.equal(e.exitCode, 3);
      assert.equal(e.stdout.toString(), 'out\n');
      assert.match(e.message, /^sh: exit status 3: oops$/);
      const r = await sh`sh -c ${'exit 4'}`.nothrow();
      assert.equal(r.exitCode, 4);
      const missing = await sh`cat < missing.txt`.catch((x: unknown) => x);
      assert.ok(missing instanceof ShellExitError);
      assert.match(missing.message, /missing\.txt: No such file or directory/);
      assert.equal(missing.exitCode, 1);
    }),
  );

  test(
    'the status rule: SIGPIPE upstream of successes is not a failure; a real failure anywhere is',
    withLeakCheck(async () => {
      assert.equal(await sh`seq 1 100000 | head -2`.text(), '1\n2\n');
      assert.equal(await sh`yes | head -1`.text(), 'y\n');
      assert.equal((await sh`false | true`.nothrow()).exitCode, 1);
      assert.equal((await sh`yes | head -1; echo $?`).stdout.toString(), 'y\n0\n');
      assert.equal((await sh`false | true; echo $?`).stdout.toString(), '1\n');
    }),
  );

  test(
    'it is a Pipeline: run, start/wait, output, text, lines (streaming, early exit stops it)',
    withLeakCheck(async () => {
      const p = sh`echo x`;
      assert.ok(p instanceof Pipeline && p instanceof ShellPipeline);
      await p.run();
      assert.throws(() => p.start(), PipeUsageError);
      assert.throws(() => sh`echo`.add(), PipeUsageError);
      assert.equal((await sh`printf abc`.output()).toString(), 'abc');
      const lines: string[] = [];
      for await (const l of sh`yes line`.lines()) {
        lines.push(l);
        if (lines.length === 3) break;
      }
      assert.deepEqual(lines, ['line', 'line', 'line']);
      const out: string[] = [];
      for await (const l of sh`printf 'a\nb'`.lines()) out.push(l);
      assert.deepEqual(out, ['a', 'b']);
      const q = sh`exit 2`;
      q.start();
      await assert.rejects(q.wait(), ShellExitError);
    }),
  );

  test(
    'a script: sequences, &&, ||, groups, cd and variables persist, subshells do not',
    withLeakCheck(async () => {
      const dir = scratch();
      try {
        const out = await sh({ cwd: dir })`
          mkdir -p sub && cd sub
          X=1; export Y=2
          (cd /; X=9)
          echo "$X $Y $(basename "$PWD")"
          { echo a; echo b; } > both.txt
          false || echo alt
          ! true || echo negated
          sh -c 'echo $Y'
        `.text();
        assert.equal(out, '1 2 sub\nalt\nnegated\n2\n');
        assert.equal(await sh`n=2; echo $((n * ${20} + ${1n}))`.text(), '41\n');
        assert.equal(readFileSync(join(dir, 'sub/both.txt'), 'utf8'), 'a\nb\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'redirections left to right: 2>&1 >file keeps only stderr on the pipe; &>, >>, heredocs',
    withLeakCheck(async () => {
      const dir = scratch();
      try {
        const s = sh({ cwd: dir });
        const piped = await s`sh -c ${'echo out; echo err >&2'} 2>&1 >out.txt | tr a-z A-Z`.text();
        assert.equal(piped, 'ERR\n');
        assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'out\n');
        await s`sh -c ${'echo o; echo e >&2'} &> all.txt; echo more >> all.txt`;
        assert.equal(
          readFileSync(join(dir, 'all.txt'), 'utf8').split('\n').sort().join(','),
          ',e,more,o',
        );
        const doc = await s`cat <<EOF
v=${'$(x) `y`'}
EOF`.text();
        assert.equal(doc, 'v=$(x) `y`\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    'bytes, Readables, Writables and file handles as redirection sources and targets; stages as values',
    withLeakCheck(async () => {
      const dir = scratch();
      try {
        assert.equal(await sh`tr a-z A-Z < ${Buffer.from('buf')}`.text(), 'BUF');
        assert.equal(await sh`wc -c < ${new Uint8Array([1, 2, 3])}`.text(), '3\n');
        assert.equal(await sh`cat < ${Readable.from(['str', 'eam'])}`.text(), 'stream');
        const sink = new PassThrough();
        const got: Buffer[] = [];
        sink.on('data', (c: Buffer) => got.push(c));
        await sh`echo to-writable > ${sink}`;
        assert.equal(Buffer.concat(got).toString(), 'to-writable\n');
        const fh = await open(join(dir, 'h.txt'), 'w');
        try {
          await sh`echo to-handle > ${fh}`;
        } finally {
          await fh.close();
        }
        assert.equal(readFileSync(join(dir, 'h.txt'), 'utf8'), 'to-handle\n');
        writeFileSync(join(dir, 'in.txt'), 'b\na\n');
        const up = linewise('up', (l) => l.toUpperCase());
        assert.equal(await sh({ cwd: dir })`sort < in.txt | ${up} | head -n 1`.text(), 'A\n');
        assert.equal(await sh({ stdin: 'from option' })`cat`.text(), 'from option');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test('bad values and bad text are refused before anything runs', () => {
    assert.throws(() => sh`echo ${undefined}`, ShellValueError);
    assert.throws(() => sh`echo ${{ a: 1 }}`, ShellValueError);
    assert.throws(() => sh`echo x${['a', 'b']}`, /an array must be a word by itself/);
    assert.throws(() => sh`echo ${Buffer.from('x')}`, /go right after < or >/);
    assert.throws(() => sh`echo ${linewise('x', (l) => l)} y`, /stand alone between pipes/);
    assert.throws(() => sh`for x in a; do :; done`, ShSyntaxError);
    assert.throws(() => sh`echo $((${'1+1'} * 2))`, /inside \$\(\(…\)\) must be a number/);
    assert.throws(() => sh`echo 'open`, /unterminated single quote \(line 1, column 6\)/);
    assert.throws(() => sh(42 as never), PipeUsageError);
  });

  test(
    'cancellation: abort() or the signal stops the running command and settles; maxBuffer stops it',
    withLeakCheck(async () => {
      const t0 = performance.now();
      const p = sh({ graceMs: 500 })`sleep 30; echo never`;
      const done = p.catch((e: unknown) => e);
      setTimeout(() => p.abort(new Error('stop')), 50);
      const e = await done;
      assert.ok(e instanceof Error);
      assert.ok(performance.now() - t0 < 10_000);
      const ac = new AbortController();
      const q = sh({ signal: ac.signal, graceMs: 500 })`sleep 30`.run();
      ac.abort(new Error('bye'));
      await assert.rejects(q);
      await assert.rejects(sh({ maxBufferBytes: 1000 })`yes`.text(), MaxBufferError);
      const t1 = performance.now();
      {
        await using running = sh({ graceMs: 500 })`sleep 30`;
        running.start();
      }
      assert.ok(performance.now() - t1 < 10_000, 'await using stopped the script');
    }),
  );
});
