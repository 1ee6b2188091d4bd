/**
 * Starts the real daemon with `--http 0` in its own process for the dashboard tests and reads
 * the address it prints. `stop()` SIGTERMs it (SIGKILL after 15 s) and removes its folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SessionsClient } from '../../src/sessions/index.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_ARGS, ROOT, tempDir } from '../sessions/daemon-harness.js';

export interface DashboardDaemon {
  child: ChildProcess;
  socket: string;
  /** The printed address, token included. */
  url: string;
  origin: string;
  token: string;
  log(): string;
  client(): Promise<SessionsClient>;
  stop(): Promise<void>;
}

export async function startDashboardDaemon(extraArgs: string[] = []): Promise<DashboardDaemon> {
  const dir = tempDir('dash');
  const socket = join(dir, 'd.sock');
  const child = spawn(
    process.execPath,
    [...CLI_ARGS, 'daemon', '--socket', socket, '--http', '0', ...extraArgs],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    out += t;
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    err += t;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const clients: SessionsClient[] = [];
  const stop = async () => {
    for (const c of clients) await c.close().catch(() => {});
    if (!gone) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  let url: string;
  try {
    url = await waitFor(
      () => {
        if (gone) throw new Error(`the daemon exited early: ${err}`);
        return /^sluice dashboard: (\S+)$/m.exec(out)?.[1];
      },
      { timeoutMs: 30_000, message: 'the daemon to print its dashboard address' },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const parsed = new URL(url);
  return {
    child,
    socket,
    url,
    origin: parsed.origin,
    token: parsed.hash.replace('#token=', ''),
    log: () => err,
    async client() {
      const c = await SessionsClient.connect({ socketPath: socket });
      clients.push(c);
      return c;
    },
    stop,
  };
}
