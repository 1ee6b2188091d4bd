/**
 * `sluice shutdown [--no-wait] [--json]`: asks the running daemon to stop, as SIGTERM does: every
 * session gets its soft signal, then SIGKILL after the daemon's grace (`daemon --grace`, 5 s),
 * grandchildren included; then the daemon removes its socket and exits. Waits until the daemon
 * has finished and its process is gone, then prints `stopped (pid N)`; `--no-wait` returns once the
 * daemon has accepted, printing `stopping (pid N)`. Fails with one line when no daemon answers.
 *
 * A subcommand of its own rather than `daemon --stop`: like `stop`, `rm` and `ls` it talks to the
 * running daemon through `--socket`, while every `daemon` option is about running one.
 */
import type { Command } from 'commander';
import { DaemonNotRunningError, type SessionsClient } from '../../sessions/index.js';
import { jsonOption, printJson, socketOption, withClient } from './client-util.js';

interface ShutdownFlags {
  wait: boolean;
  json?: boolean;
  socket?: string;
}

/** Polls `done` every `everyMs` until it is true. */
async function until(done: () => boolean | Promise<boolean>, everyMs: number): Promise<void> {
  while (!(await done())) await new Promise((r) => setTimeout(r, everyMs));
}

/** Whether a process with this pid can be seen from here (false: gone, or in another pid space). */
function visible(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Asks the daemon to shut down; with `wait`, resolves once it has closed this connection (it does
 * so last, after every session has stopped) and its process has exited.
 */
async function shutdown(client: SessionsClient, wait: boolean): Promise<number> {
  const pid = client.daemon.daemonPid;
  const seen = visible(pid);
  await client.shutdown();
  if (!wait) return pid;
  // The daemon answers pings until it has stopped every session, then closes the connection.
  await until(
    () =>
      client.ping().then(
        () => false,
        () => true,
      ),
    50,
  );
  if (seen) await until(() => !visible(pid), 20);
  return pid;
}

export function register(program: Command): void {
  const cmd = program
    .command('shutdown')
    .description(
      'stop the daemon: every session gets SIGTERM, then SIGKILL after the grace; waits until it has exited',
    )
    .option('--no-wait', 'return once the daemon has accepted instead of waiting for it to exit');
  jsonOption(socketOption(cmd)).action(async (flags: ShutdownFlags) => {
    const pid = await withClient(flags, (client) => shutdown(client, flags.wait)).catch(
      (e: unknown) => {
        if (e instanceof DaemonNotRunningError) {
          throw new Error(`no sluice daemon answers at ${e.socketPath}: nothing to stop`);
        }
        throw e;
      },
    );
    const state = flags.wait ? 'stopped' : 'stopping';
    if (flags.json) printJson({ pid, state });
    else process.stdout.write(`${state} (pid ${pid})\n`);
  });
}
