/** `sluice rm ID [--force]`: removes an exited session (with `--force`, a running one too). */
import type { Command } from 'commander';
import { isRequestError } from '../../sessions/index.js';
import { socketOption, withClient } from './client-util.js';

export function register(program: Command): void {
  const cmd = program
    .command('rm')
    .description('remove an exited session and free its backlog')
    .argument('<id>', 'the session id (or a unique prefix)')
    .option('-f, --force', 'kill it first if it still runs');
  socketOption(cmd).action(async (id: string, flags: { force?: boolean; socket?: string }) => {
    const removed = await withClient(flags, (client) =>
      client.remove(id, { force: flags.force }),
    ).catch((e: unknown) => {
      if (isRequestError(e, 'running')) {
        throw new Error(
          `session ${id} is still running: stop it first (sluice stop ${id}), or kill and remove it with sluice rm --force ${id}`,
        );
      }
      throw e;
    });
    process.stdout.write(`${removed}\n`);
  });
}
