/** `sluice purge [--originator NAME] [--json]`: removes every exited session; prints their ids. */
import type { Command } from 'commander';
import { jsonOption, printJson, socketOption, withClient } from './client-util.js';

export function register(program: Command): void {
  const cmd = program
    .command('purge')
    .description('remove every exited session (running ones are never touched)')
    .option('--originator <name>', 'only the sessions of this originator');
  jsonOption(socketOption(cmd)).action(
    async (flags: { originator?: string; json?: boolean; socket?: string }) => {
      const removed = await withClient(flags, (client) => client.purgeExited(flags.originator));
      if (flags.json) printJson(removed);
      else if (removed.length > 0) process.stdout.write(`${removed.join('\n')}\n`);
    },
  );
}
