/**
 * The worker of bench/pipe.ts (not a bench of its own: bench/run.ts only runs `*.ts`). It is
 * bundled by esbuild and run with plain `node` (no tsx loader, so the parent RSS measured is the
 * work's), once per peer: `node driver.mjs CASE PEER RUNS FILE [WARMUP]`. It prints one JSON line with
 * wall time, this process's CPU time (process.cpuUsage) per run, and its peak RSS.
 */
import { spawn } from 'node:child_process';
import { Transform } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { command, linewise, pipeline } from '../src/pipe/index.js';

const [kind, peer, runsArg, file, warmupArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string | undefined,
];
const runs = Number(runsArg);
const GIB = 1024 ** 3;

function bashRun(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`bash exit ${code}`))));
  });
}

/** Hand-written Node streams: cat's stdout → a line-splitting uppercase Transform → wc's stdin. */
function streamsLines(path: string): Promise<string> {
  const cat = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const wc = spawn('wc', ['-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let rest = '';
  const upper = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const text = rest + chunk.toString('utf8');
      const lines = text.split('\n');
      rest = lines.pop()!;
      let out = '';
      for (const l of lines) out += `${l.toUpperCase()}\n`;
      cb(null, out);
    },
    flush(cb) {
      cb(null, rest ? `${rest.toUpperCase()}\n` : '');
    },
  });
  let out = '';
  wc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const done = new Promise<void>((r) => wc.on('close', () => r()));
  return streamPipeline(cat.stdout, upper, wc.stdin).then(() => done.then(() => out));
}

/** 1 GiB through `cat | wc -c`. */
async function gibOnce(): Promise<string | undefined> {
  switch (peer) {
    case 'sluice':
      return pipeline()
        .add(command('cat', [file]), command('wc', ['-c']))
        .text();
    case 'sluice-kernel':
      return pipeline({ pipeSize: 0 })
        .add(command('cat', [file]), command('wc', ['-c']))
        .text();
    case 'bash':
      return bashRun(`cat '${file}' | wc -c`);
    case 'execa': {
      const { execa } = await import('execa');
      return (await execa('cat', [file], { buffer: false }).pipe('wc', ['-c'])).stdout;
    }
    case 'zx': {
      const { $ } = await import('zx');
      $.verbose = false;
      return (await $`cat ${file}`.pipe($`wc -c`)).stdout;
    }
  }
  return undefined;
}

/** 1,000,000 lines through command → uppercase → command. */
async function linesOnce(): Promise<string | undefined> {
  switch (peer) {
    case 'sluice':
      return pipeline()
        .add(
          command('cat', [file]),
          linewise('upper', (l) => l.toUpperCase()),
          command('wc', ['-c']),
        )
        .text();
    case 'streams':
      return streamsLines(file);
    case 'execa': {
      const { execa } = await import('execa');
      return (
        await execa('cat', [file], {
          buffer: false,
          stdout: function* (line: unknown) {
            yield String(line).toUpperCase();
          },
        }).pipe('wc', ['-c'])
      ).stdout;
    }
  }
  return undefined;
}

/** A tiny output: `echo hi | cat`. */
async function tinyOnce(): Promise<string | undefined> {
  // A tiny output: `echo hi | cat`.
  switch (peer) {
    case 'sluice':
    case 'sluice-kernel':
      return pipeline(peer === 'sluice' ? {} : { pipeSize: 0 })
        .add(command('echo', ['hi']), command('cat'))
        .text();
    case 'bash':
      return bashRun('echo hi | cat');
  }
  return undefined;
}

/** Many stages, little data: `seq 10000 | cat` ×48 `| wc -l`. */
async function manyOnce(): Promise<string | undefined> {
  // Many stages, little data: `seq 10000 | cat | … | cat | wc -l`, 50 stages.
  switch (peer) {
    case 'sluice':
    case 'sluice-kernel':
      return pipeline(peer === 'sluice' ? {} : { pipeSize: 0 })
        .add(
          command('seq', ['10000']),
          ...Array.from({ length: 48 }, () => command('cat')),
          command('wc', ['-l']),
        )
        .text();
    case 'bash':
      return bashRun(`seq 10000 | ${Array(48).fill('cat').join(' | ')} | wc -l`);
  }
  return undefined;
}

/** A pipeline of ten `true`. */
async function tenOnce(): Promise<string | undefined> {
  switch (peer) {
    case 'sluice':
    case 'sluice-kernel':
      await pipeline(peer === 'sluice' ? {} : { pipeSize: 0 })
        .add(...Array.from({ length: 10 }, () => command('true')))
        .run();
      return '';
    case 'bash':
      return bashRun(Array(10).fill('true').join(' | '));
    case 'node-spawn': {
      // The floor: ten bare spawns joined by the same pipes, no pipeline around them.
      const { createPipes } = await import('../src/proc/index.js');
      const pipes = createPipes(9);
      const exits: Promise<unknown>[] = [];
      for (let j = 0; j < 10; j++) {
        const c = spawn('true', [], {
          stdio: [
            j ? pipes[j - 1]!.readFd : 'ignore',
            j < 9 ? pipes[j]!.writeFd : 'ignore',
            'pipe',
          ],
          detached: true,
        });
        exits.push(new Promise((r) => c.on('close', r)));
        if (j) pipes[j - 1]!.closeRead();
        if (j < 9) pipes[j]!.closeWrite();
      }
      await Promise.all(exits);
      return '';
    }
    case 'execa': {
      const { execa } = await import('execa');
      // Each .pipe() returns the destination's promise; chain them as a user would.
      let p: PromiseLike<unknown> & { pipe(file: string): PromiseLike<unknown> } = execa('true');
      for (let i = 0; i < 9; i++) p = p.pipe('true') as typeof p;
      await p;
      return '';
    }
    case 'zx': {
      const { $ } = await import('zx');
      $.verbose = false;
      let p = $`true`;
      for (let i = 0; i < 9; i++) p = p.pipe($`true`);
      await p;
      return '';
    }
  }
  return undefined;
}

/** One run of the case: the peer's output (a count, a line), or '' where there is none. */
async function once(): Promise<string> {
  const cases: Record<string, () => Promise<string | undefined>> = {
    gib: gibOnce,
    lines: linesOnce,
    tiny: tinyOnce,
    many: manyOnce,
    ten: tenOnce,
  };
  const out = await cases[kind]?.();
  if (out === undefined) throw new Error(`unknown case ${kind}/${peer}`);
  return out;
}

const wallMs: number[] = [];
const cpuMs: number[] = [];
let output = '';
const warmup = Number(warmupArg ?? 0);
for (let i = -warmup; i < runs; i++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  output = await once();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  if (i >= 0) {
    wallMs.push(t1 - t0);
    cpuMs.push((cpu.user + cpu.system) / 1000);
  }
}
if (kind === 'gib' && Number(output.trim()) !== GIB)
  throw new Error(`${peer}: wrong count ${output}`);
if (kind === 'many' && Number(output.trim()) !== 10000)
  throw new Error(`${peer}: wrong count ${output}`);
if (kind === 'tiny' && output !== 'hi\n') throw new Error(`${peer}: wrong output ${output}`);
process.stdout.write(
  `${JSON.stringify({ wallMs, cpuMs, maxRssMB: process.resourceUsage().maxRSS / 1024, output: output.trim() })}\n`,
);
