/**
 * `sluice attach ID [--stderr] [--steal] [--read-only] [--detach-key KEY]`: shows a session's
 * backlog, then its live output, and sends this terminal's input to it.
 *
 * On a PTY session with a terminal on stdin, the terminal is put in raw mode: every key (Ctrl-C
 * included) goes to the session, except the detach key (Ctrl-\ by default; `--detach-key ctrl-a`,
 * or `none`), and the session's PTY follows this terminal's size (at attach and on every resize).
 * A PTY session that keeps a screen is drawn as it is (docs/screens.md), not replayed (`--raw`
 * replays the ring); a read-only viewer's terminal is in raw mode too, without echo (only the
 * detach key counts), and never sees a terminal query. However the attach ends, a PTY session's
 * terminal modes are undone (alternate screen, hidden cursor, mouse, keypad, bracketed paste,
 * scroll region) before the closing line, which starts on a line of its own.
 * On a pipe session the terminal stays in line mode: lines go to the session's stdin, and Ctrl-\
 * (or Ctrl-C) detaches. When stdin is not a terminal, its bytes are forwarded until it ends (which
 * does not close the session's stdin: `sluice send --eof` does). `--read-only` sends nothing and
 * never takes the writer's seat, so it can watch beside the writer; `--steal` takes the seat from
 * the writer attached now.
 *
 * Exit status: 0 after a detach; the session's own status when it exits while attached (its code,
 * or 128 + signal number); 1 with one line on stderr when the attachment is taken over, the
 * session removed or the daemon stopped.
 */
import { constants } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import {
  AlternateScreenTracker,
  type AttachEnd,
  type ClientAttachment,
  isRequestError,
  QueryFilter,
  restoreTerminal,
} from '../../sessions/index.js';
import { describeExit, exitCodeOf, socketOption, withClient, writeOut } from './client-util.js';

interface AttachFlags {
  stderr?: boolean;
  steal?: boolean;
  readOnly?: boolean;
  raw?: boolean;
  /** Undefined: the default, Ctrl-\ (DEFAULT_DETACH_KEY). */
  detachKey?: number | null;
  socket?: string;
}

/** The detach key unless `--detach-key` names another: Ctrl-\ (0x1c), as dtach and abduco use. */
export const DEFAULT_DETACH_KEY = 0x1c;

/** Parses `ctrl-X` (X a letter or one of @[\]^_) to its control byte; `none` disables. */
export function parseDetachKey(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'none') return null;
  const m = /^(?:ctrl-|\^|c-)(.)$/.exec(t);
  const ch = m?.[1]?.toUpperCase();
  if (!ch || ch.charCodeAt(0) < 0x40 || ch.charCodeAt(0) > 0x5f) {
    throw new InvalidArgumentError(`'${text}' is not a key like ctrl-\\, ctrl-a or none`);
  }
  return ch.charCodeAt(0) & 0x1f;
}

function keyName(code: number): string {
  return `Ctrl-${String.fromCharCode(code + 0x40)}`;
}

const SIGNALS = constants.signals as Record<string, number>;

export function register(program: Command): void {
  const cmd = program
    .command('attach')
    .description("show a session's backlog and live output, and send it this terminal's input")
    .argument('<id>', 'the session id (or a unique prefix)')
    .option('--stderr', 'the stderr stream instead of stdout (pipe sessions)')
    .option('--steal', 'take over from the client attached now')
    .option('--read-only', 'watch only: send nothing, beside the attached writer')
    .option('--raw', "replay the raw output ring instead of drawing a PTY session's screen")
    .option(
      '--detach-key <key>',
      'the key that detaches a PTY session: ctrl-X or none (default ctrl-\\; a pipe session detaches on Ctrl-\\ or Ctrl-C)',
      parseDetachKey,
    );
  socketOption(cmd).action(async (id: string, flags: AttachFlags) => {
    const out = process.stdout;
    const size = out.isTTY ? { rows: out.rows, cols: out.columns } : undefined;
    await withClient(flags, async (client) => {
      const stream = flags.stderr ? 'stderr' : 'stdout';
      const attachment = await client
        .attach(id, { stream, steal: flags.steal, readOnly: flags.readOnly, raw: flags.raw, size })
        .catch((e: unknown) => {
          if (isRequestError(e, 'already-attached')) {
            throw new Error(
              `another client is attached to session ${id} (${stream}): take over with sluice attach --steal ${id}, or watch with --read-only`,
            );
          }
          throw e;
        });
      await run(attachment, flags, size);
    });
  });
}

/**
 * How to detach, for the banner: in raw mode the detach key (a viewer without one: Ctrl-C); in
 * line mode Ctrl-\ (SIGQUIT), which detaches too, like Ctrl-C (SIGINT), so the banner names the
 * same key in both modes.
 */
export function detachHint(raw: boolean, writer: boolean, detachKey: number | null): string {
  if (!raw) return `detach with ${keyName(DEFAULT_DETACH_KEY)}`;
  if (detachKey !== null) return `detach with ${keyName(detachKey)}`;
  return writer
    ? 'no detach key (--detach-key none): every key goes to the session'
    : 'detach with Ctrl-C';
}

/** What the input side needs to know. */
interface InputSetup {
  writer: boolean;
  pty: boolean;
  raw: boolean;
  detachKey: number | null;
  /** The terminal's size when the attach was asked for (undefined when stdout is no terminal). */
  sentSize: { rows: number; cols: number } | undefined;
  detach(): void;
}

/**
 * Sends this terminal's input to the session (a writer) or watches it for the detach key (a
 * viewer in raw mode), follows the terminal's size, and detaches on the usual signals. Returns
 * the function that undoes all of it.
 */
function bindInput(attachment: ClientAttachment, setup: InputSetup): () => void {
  const stdin = process.stdin;
  const { writer, pty, raw, detachKey, sentSize, detach } = setup;
  let done = false;
  const onInput = (chunk: Buffer) => {
    if (done) return;
    if (!writer) {
      if (detachKey === null ? chunk.includes(0x03) : chunk.includes(detachKey)) detach();
      return;
    }
    const at = raw && detachKey !== null ? chunk.indexOf(detachKey) : -1;
    const data = at >= 0 ? chunk.subarray(0, at) : chunk;
    // A write after the attachment ended is refused; the caller reports how it ended.
    if (data.length > 0) attachment.write(data).catch(() => {});
    if (at >= 0) detach();
  };
  const onResize = () => {
    if (process.stdout.rows && process.stdout.columns) {
      try {
        attachment.resize(process.stdout.rows, process.stdout.columns);
      } catch {
        // ended meanwhile
      }
    }
  };
  const signals: NodeJS.Signals[] = raw
    ? ['SIGTERM', 'SIGHUP']
    : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of signals) process.on(s, detach);
  const readsInput = writer || raw;
  if (readsInput) {
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.resume();
    if (writer && pty && process.stdout.isTTY) {
      process.stdout.on('resize', onResize);
      // The terminal may have been resized while the attach was under way, before this listener
      // existed: that 'resize' event is gone, so catch up with the size it left.
      const { rows, columns } = process.stdout;
      if (rows !== sentSize?.rows || columns !== sentSize?.cols) onResize();
    }
  }
  return () => {
    done = true;
    for (const s of signals) process.off(s, detach);
    if (readsInput) {
      stdin.off('data', onInput);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      if (!stdin.isTTY) stdin.destroy();
      process.stdout.off('resize', onResize);
    }
  };
}

async function run(
  attachment: ClientAttachment,
  flags: AttachFlags,
  sentSize: { rows: number; cols: number } | undefined,
): Promise<void> {
  const writer = !attachment.readOnly;
  const pty = attachment.session.kind === 'pty';
  // Raw mode for the writer (every key goes to the program) and for a viewer of a PTY session
  // (no echo, no line editing: only the detach key counts, nothing else is sent anywhere).
  const raw = pty && process.stdin.isTTY === true;
  const terminalOut = pty && process.stdout.isTTY === true;
  // Only the writer's terminal may answer the program's queries; a viewer's must not see them.
  const filter = writer ? undefined : new QueryFilter();
  // Whether what was shown left the terminal on the alternate screen, for the restore.
  const alternate = new AlternateScreenTracker();
  const detachKey = flags.detachKey === undefined ? DEFAULT_DETACH_KEY : flags.detachKey;
  const id = attachment.session.id;
  let detaching = false;
  const detach = () => {
    if (detaching) return;
    detaching = true;
    void attachment.detach();
  };
  const unbind = bindInput(attachment, { writer, pty, raw, detachKey, sentSize, detach });
  if (process.stderr.isTTY) {
    const how = detachHint(raw, writer, detachKey);
    // (A screen drawing that follows scrolls this line into the terminal's scrollback.)
    process.stderr.write(
      `[attached to ${id}${attachment.readOnly ? ', read-only' : ''}; ${how}]\r\n`,
    );
  }
  try {
    const show = (data: Buffer) => {
      alternate.push(data);
      return writeOut(filter ? filter.push(data) : data);
    };
    if (attachment.screen.length > 0) await show(attachment.screen);
    await show(attachment.backlog);
    for await (const ev of attachment) {
      if (ev.type === 'output') await show(ev.data);
      else if (ev.type === 'missed' && process.stderr.isTTY) {
        process.stderr.write(`\r\n[fell behind: ${ev.bytes} bytes skipped]\r\n`);
      }
    }
  } finally {
    unbind();
    // Whatever modes the program left the terminal in, give it back as a shell expects, and
    // start the closing line on a line of its own.
    if (terminalOut) {
      const restore = restoreTerminal({ alternateScreen: alternate.active });
      await writeOut(Buffer.from(restore)).catch(() => {});
    }
  }
  reportEnd(attachment.ended ?? { reason: 'closed' }, id);
}

/**
 * Says how the attachment ended and sets the exit status: 0 after a detach, the session's own
 * status when it exited (also when the daemon's shutdown stopped it), else one error line.
 */
function reportEnd(end: AttachEnd, id: string): void {
  switch (end.reason) {
    case 'detached':
      if (process.stderr.isTTY) process.stderr.write(`[detached from ${id}]\r\n`);
      return;
    case 'exited':
      if (end.exit) {
        if (process.stderr.isTTY) {
          process.stderr.write(`[session ${id} ended: ${describeExit(end.exit)}]\r\n`);
        }
        process.exitCode = exitCodeOf(end.exit, SIGNALS);
      }
      return;
    case 'stolen':
      throw new Error(`another client took over session ${id} (attach --steal)`);
    case 'removed':
      throw new Error(`session ${id} was removed`);
    case 'shutdown':
      if (end.exit) {
        // The daemon stopped the session on its way out and said how: exit with its status.
        process.stderr.write(
          `sluice: the daemon shut down; session ${id} ended: ${end.exit.outcome} (${describeExit(end.exit)})\n`,
        );
        process.exitCode = exitCodeOf(end.exit, SIGNALS);
        return;
      }
      throw new Error(`the daemon shut down while attached to session ${id}`);
    default:
      throw new Error(
        `the connection to the daemon broke while attached to session ${id}${
          end.message ? `: ${end.message}` : ''
        }`,
      );
  }
}
