/** Shared by the cluster tests: worker processes, result collection, overlap measurement. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Result } from '../../src/flow/index.js';
import type { WorkResult } from './fixtures/work.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const WORK_MODULE = fileURLToPath(new URL('./fixtures/work.ts', import.meta.url));
const CLI = fileURLToPath(new URL('./fixtures/worker-cli.ts', import.meta.url));

/** A `sluice worker` process. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves once it printed its "serving" line. */
  ready: Promise<void>;
  /** Resolves with its exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `sluice worker` for `stage` of `name` serving the fixture module. */
export function startWorker(
  servers: string,
  name: string,
  stage: string,
  extra: string[] = [],
): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'worker',
      '--servers',
      servers,
      '--name',
      name,
      '--stage',
      stage,
      ...extra,
      WORK_MODULE,
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code, signal) =>
      reject(new Error(`worker exited early (${code ?? signal}): ${err}`)),
    );
  });
  ready.catch(() => {});
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    if (err.includes(': serving stage')) onReady();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    pid: child.pid!,
    ready,
    exited,
    stderr: () => err,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** SIGKILLs every worker still running and waits for their exits. */
export async function killAll(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers) {
    w.kill('SIGCONT');
    w.kill('SIGKILL');
  }
  await Promise.all(workers.map((w) => w.exited));
}

/** Drains `out` into an array. */
export async function collect<R>(out: AsyncIterable<Result<R>>): Promise<Result<R>[]> {
  const all: Result<R>[] = [];
  for await (const r of out) all.push(r);
  return all;
}

/** The largest number of [start, end) intervals that overlap at one instant. */
export function maxOverlap(results: readonly WorkResult[]): number {
  const events: [number, number][] = [];
  for (const r of results) {
    events.push([r.start, 1], [r.end, -1]);
  }
  // Ends before starts at the same instant: touching intervals do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of events) {
    now += d;
    if (now > max) max = now;
  }
  return max;
}

/** Values of ok results; throws on the first error result. */
export function values<R>(results: readonly Result<R>[]): R[] {
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.value;
  });
}
