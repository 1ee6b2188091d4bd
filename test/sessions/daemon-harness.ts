/**
 * Runs the real daemon as a separate process for integration tests, each on its own socket in
 * its own `sluice-*` temp folder, and runs CLI commands against it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionsClient } from '../../src/sessions/client/client.js';
import { waitFor } from '../helpers/wait.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'src/cli/main.ts');
const DIST_CLI = join(ROOT, 'dist/cli/main.js');

/** The newest modification time (ms) of any file below `dir`. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function distIsFresh(): boolean {
  try {
    const built = Math.min(
      statSync(DIST_CLI).mtimeMs,
      statSync(join(ROOT, 'dist/sessions/daemon/server.js')).mtimeMs,
    );
    return built > newestMtime(join(ROOT, 'src'));
  } catch {
    return false;
  }
}

/**
 * How tests start `sluice`: through tsx from src/ (the sources under test), or from dist/ when
 * a build newer than every source file is there (CI builds before testing), which starts ten
 * times faster. `SLUICE_TEST_CLI=src` or `=dist` forces one.
 */
export const CLI_ARGS: string[] =
  process.env.SLUICE_TEST_CLI === 'dist' || (process.env.SLUICE_TEST_CLI !== 'src' && distIsFresh())
    ? [DIST_CLI]
    : ['--import', 'tsx', CLI];

/** A daemon process under test. */
export interface DaemonProcess {
  dir: string;
  socket: string;
  child: ChildProcess;
  /** What the daemon wrote to stderr so far. */
  log(): string;
  /** Resolves with how the daemon exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A connected client; closed by `stop`. */
  client(): Promise<SessionsClient>;
  /** Sends `signal` (default SIGTERM), awaits the exit, removes the temp folder. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Makes a `sluice-*` temp folder; the caller removes it. */
export function tempDir(tag = 'dtest'): string {
  return mkdtempSync(join(tmpdir(), `sluice-${tag}-`));
}

/**
 * Starts `sluice daemon --socket <tmp>/d.sock` (plus `args`, under `wrap` when given) and waits
 * until it answers.
 */
export async function startDaemon(
  options: {
    args?: string[];
    dir?: string;
    socket?: string;
    env?: NodeJS.ProcessEnv;
    /** A command the daemon runs under, such as `['prlimit', '--nofile=64:64', '--']`. */
    wrap?: string[];
  } = {},
): Promise<DaemonProcess> {
  const dir = options.dir ?? tempDir();
  const socket = options.socket ?? join(dir, 'd.sock');
  const argv = [
    ...(options.wrap ?? []),
    process.execPath,
    ...CLI_ARGS,
    'daemon',
    '--socket',
    socket,
    ...(options.args ?? []),
  ];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: options.env ?? process.env,
  });
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => {
    log += t;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const clients: SessionsClient[] = [];
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`the daemon exited early: ${log}`);
        try {
          const c = await SessionsClient.connect({ socketPath: socket, timeoutMs: 2000 });
          await c.close();
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, message: 'the daemon to answer' },
    );
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const daemon: DaemonProcess = {
    dir,
    socket,
    child,
    log: () => log,
    exited,
    async client() {
      const c = await SessionsClient.connect({ socketPath: socket });
      clients.push(c);
      return c;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      for (const c of clients) await c.close().catch(() => {});
      if (!gone) child.kill(signal);
      // A daemon that does not stop within 15 s is killed, so no test leaves one behind.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
  return daemon;
}

/** What a CLI run produced. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `sluice ARGS` (through tsx) to completion. */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
      cwd: ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Whether process `pid` is alive (not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
