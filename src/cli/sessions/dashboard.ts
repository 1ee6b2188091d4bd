/**
 * `sluice dashboard [--open] [--json]`: asks the running daemon for its dashboard's address
 * (with the access token) and prints it, or opens it in the desktop's browser. Fails with one
 * line when the daemon runs without `--http`.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { jsonOption, printJson, socketOption, withClient } from './client-util.js';

interface DashboardFlags {
  open?: boolean;
  json?: boolean;
  socket?: string;
}

/** The desktop's opener for a URL: `open` on macOS, `xdg-open` elsewhere. */
function opener(): string {
  return process.platform === 'darwin' ? 'open' : 'xdg-open';
}

/** Starts the opener detached; resolves once it started, rejects with one clear line. */
function openUrl(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(opener(), [url], { stdio: 'ignore', detached: true });
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot open a browser (${opener()}: ${e.code ?? e.message}); open the address yourself: ${url}`,
        ),
      ),
    );
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

export function register(program: Command): void {
  const cmd = program
    .command('dashboard')
    .description("print the daemon's dashboard address, access token included")
    .option('--open', "open it in the desktop's browser instead of printing it");
  jsonOption(socketOption(cmd)).action(async (flags: DashboardFlags) => {
    const info = await withClient(flags, (client) => client.dashboard());
    if (info.url === null) {
      throw new Error(
        'the daemon runs without a dashboard: start it with sluice daemon --http PORT',
      );
    }
    if (flags.json) printJson(info);
    else if (flags.open) await openUrl(info.url);
    else process.stdout.write(`${info.url}\n`);
  });
}
