/**
 * `sluice logs ID [--stderr] [--follow]`: prints a session's backlog byte for byte, without
 * consuming it (a later `logs` or `attach` sees it again). With `--follow` it then prints live
 * output as a read-only viewer (it never takes the writer's seat) until the session exits, the
 * daemon stops, or Ctrl-C. When the ring had already dropped earlier output, a note saying how
 * many bytes goes to stderr (if stderr is a terminal), never into the output.
 */
import type { Command } from 'commander';
import { socketOption, withClient, writeOut } from './client-util.js';

interface LogsFlags {
  stderr?: boolean;
  follow?: boolean;
  socket?: string;
}

function note(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`sluice: ${text}\n`);
}

export function register(program: Command): void {
  const cmd = program
    .command('logs')
    .description("print a session's backlog (not consumed); --follow keeps printing live output")
    .argument('<id>', 'the session id (or a unique prefix)')
    .option('--stderr', 'the stderr stream instead of stdout')
    .option('-f, --follow', 'keep printing new output until the session exits');
  socketOption(cmd).action(async (id: string, flags: LogsFlags) => {
    const stream = flags.stderr ? 'stderr' : 'stdout';
    await withClient(flags, async (client) => {
      if (!flags.follow) {
        const { data, missedBytes } = await client.snapshot(id, { stream });
        if (missedBytes > 0) note(`${missedBytes} earlier bytes are no longer kept`);
        await writeOut(data);
        return;
      }
      const attachment = await client.attach(id, { stream, readOnly: true });
      const stop = () => {
        void attachment.detach();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        if (attachment.missedBytes > 0) {
          note(`${attachment.missedBytes} earlier bytes are no longer kept`);
        }
        await writeOut(attachment.backlog);
        for await (const ev of attachment) {
          if (ev.type === 'output') await writeOut(ev.data);
          else if (ev.type === 'missed') note(`fell behind: ${ev.bytes} bytes skipped`);
        }
        const end = attachment.ended;
        if (end?.reason === 'closed' || end?.reason === 'shutdown') {
          throw new Error(`the daemon went away while following session ${id}`);
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  });
}
