/**
 * `sluice send ID [TEXT | -] [--eof] [-n]`: writes to a session's stdin (a PTY's input).
 *
 * TEXT is sent with a newline after it, as `echo` prints it (`-n` leaves the newline out); `-`
 * copies this command's stdin as it is, streaming it in pieces. `--eof` closes the session's
 * stdin afterwards (alone, it only closes). Prints nothing; fails with one line when the session
 * has exited or its stdin is closed.
 */
import type { Command } from 'commander';
import { socketOption, usageError, withClient } from './client-util.js';

interface SendFlags {
  eof?: boolean;
  newline: boolean;
  socket?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('send')
    .description("write to a session's stdin; --eof closes it")
    .argument('<id>', 'the session id (or a unique prefix)')
    .argument('[text]', "the text to send (a newline is added), or - for this command's stdin")
    .option('--eof', "close the session's stdin after writing")
    .option('-n, --no-newline', 'do not add a newline after TEXT');
  socketOption(cmd).action(
    async (id: string, text: string | undefined, flags: SendFlags, command: Command) => {
      if (text === undefined && !flags.eof) {
        usageError(command, 'nothing to send: give TEXT, - for stdin, or --eof');
      }
      await withClient(flags, async (client) => {
        if (text === '-') {
          let sent = false;
          for await (const chunk of process.stdin) {
            await client.writeStdin(id, chunk as Buffer);
            sent = true;
          }
          if (flags.eof || !sent) await client.writeStdin(id, '', { close: flags.eof });
          return;
        }
        const data = text === undefined ? '' : flags.newline ? `${text}\n` : text;
        await client.writeStdin(id, data, { close: flags.eof });
      });
    },
  );
}
