/**
 * `sluice logs ID [--stderr] [--follow [--lossless]] [--raw [--force]]`: prints a session's backlog without
 * consuming it (a later `logs` or `attach` sees it again).
 *
 * - A pipe session: its ring, byte for byte.
 * - A PTY session that keeps a screen: the screen and its scrollback as plain text (no escape
 *   sequences: safe in a terminal, useful in a pipe; docs/screens.md). `--raw` prints the raw
 *   ring instead, which is refused when stdout is a terminal unless `--force` is given (the
 *   terminal queries in it would be answered into your shell), and then has its queries removed.
 *
 * `--follow` then prints live output as a read-only viewer (it never takes the writer's seat)
 * until the session exits, the daemon stops, or Ctrl-C. For a PTY session in a terminal that is
 * a drawing of the screen and then its live output; into a pipe, the ring and then live output;
 * terminal queries are always removed. By default a follower never slows the session: when it
 * falls behind (a slow pipe), the daemon skips output for it, and `logs` then says how many bytes
 * were lost on stderr (whether or not stderr is a terminal) and exits 1 at once, so a gap is
 * never silent. `--lossless` instead holds the session's program while this reader is behind
 * (it blocks on its pipe or terminal), so every byte arrives and the program goes at the
 * reader's pace.
 * When the ring had already dropped earlier output, a note on stderr says how many bytes.
 */
import type { Command } from 'commander';
import { QueryFilter, stripQueries } from '../../sessions/index.js';
import { socketOption, usageError, withClient, writeOut } from './client-util.js';

interface LogsFlags {
  stderr?: boolean;
  follow?: boolean;
  raw?: boolean;
  force?: boolean;
  lossless?: boolean;
  socket?: string;
}

function note(text: string): void {
  process.stderr.write(`sluice: ${text}\n`);
}

export function register(program: Command): void {
  const cmd = program
    .command('logs')
    .description("print a session's backlog (not consumed); --follow keeps printing live output")
    .argument('<id>', 'the session id (or a unique prefix)')
    .option('--stderr', 'the stderr stream instead of stdout')
    .option('-f, --follow', 'keep printing new output until the session exits')
    .option('--raw', "a PTY session's raw output instead of its screen as text")
    .option('--force', 'with --raw: write to a terminal anyway (queries removed)')
    .option(
      '--lossless',
      'with --follow: never skip output; the session waits for this reader (slows the program)',
    );
  socketOption(cmd).action(async (id: string, flags: LogsFlags, command: Command) => {
    const stream = flags.stderr ? 'stderr' : 'stdout';
    const toTerminal = process.stdout.isTTY === true;
    if (flags.force && !flags.raw) usageError(command, '--force goes with --raw');
    if (flags.lossless && !flags.follow) usageError(command, '--lossless goes with --follow');
    if (flags.raw && toTerminal && !flags.force) {
      throw new Error(
        'refusing to write raw terminal output to a terminal (its queries would be answered into your shell); use --force, or drop --raw for the screen as text',
      );
    }
    await withClient(flags, async (client) => {
      if (!flags.follow) {
        const { data, missedBytes, text } = await client.snapshot(id, {
          stream,
          text: !flags.raw,
        });
        if (missedBytes > 0) note(`${missedBytes} earlier bytes are no longer kept`);
        // Raw bytes of a terminal session written to a terminal lose their queries.
        await writeOut(!text && toTerminal ? stripQueries(data) : data);
        return;
      }
      const attachment = await client.attach(id, {
        stream,
        readOnly: true,
        lossless: flags.lossless === true,
        // A drawing of the screen is for a terminal; a pipe gets the ring.
        raw: !toTerminal || flags.raw === true,
        size: toTerminal ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined,
      });
      const filter = attachment.session.kind === 'pty' ? new QueryFilter() : undefined;
      const show = (data: Buffer) => writeOut(filter ? filter.push(data) : data);
      const stop = () => {
        void attachment.detach();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        if (attachment.missedBytes > 0) {
          note(`${attachment.missedBytes} earlier bytes are no longer kept`);
        }
        if (attachment.screen.length > 0) await writeOut(attachment.screen);
        await show(attachment.backlog);
        for await (const ev of attachment) {
          if (ev.type === 'output') await show(ev.data);
          else if (ev.type === 'missed') {
            await attachment.detach();
            throw new Error(
              `fell behind: ${ev.bytes} bytes of session ${id} were skipped (this reader took output slower than the session wrote it)`,
            );
          }
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
