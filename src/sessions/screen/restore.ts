/**
 * What a client writes to the user's terminal when it stops showing a session (detach, exit,
 * a stolen seat, an error): the terminal goes back to the modes a shell expects, whatever modes
 * the program had set, and the next line starts on a clean line.
 */

/**
 * Every mode a full-screen program may have set, back to a shell's, without moving the cursor
 * and without leaving the alternate screen (see `restoreTerminal` for why): the scroll region
 * reset between a cursor save and restore (a scroll region homes the cursor), the cursor shown
 * with the terminal's default shape, every mouse reporting mode and encoding off, focus events,
 * bracketed paste, application cursor keys and keypad off, insert mode off, auto-wrap on,
 * colours and attributes reset, the ASCII character set in G0. Asks the terminal nothing.
 */
const MODES_RESET: string = [
  '\x1b7\x1b[r\x1b8', // scroll region: the whole screen (saved and restored around it)
  '\x1b[?25h', // cursor visible
  '\x1b[0 q', // cursor shape: the terminal's default
  '\x1b[?9l\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l', // mouse reporting off
  '\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l', // mouse encodings off
  '\x1b[?1004l', // focus events off
  '\x1b[?2004l', // bracketed paste off
  '\x1b[?1l\x1b>\x1b[?66l', // normal cursor keys and keypad
  '\x1b[4l', // insert mode off
  '\x1b[?7h', // auto-wrap on
  '\x1b[0m', // colours and attributes
  '\x1b(B', // ASCII character set in G0
].join('');

/** Leaves the alternate screen (xterm's 1049 restores the normal screen's cursor too). */
const LEAVE_ALTERNATE = '\x1b[?1049l';

/**
 * The full reset, alternate screen included: what goes before a screen drawing, where the cursor
 * is moved right after anyway. It never asks the terminal anything, so nothing is typed back.
 */
export const TERMINAL_RESTORE: string = `${LEAVE_ALTERNATE}\x1b[?6l${MODES_RESET}`;

/** Options of `restoreTerminal`. */
export interface RestoreOptions {
  /**
   * Whether the terminal shows the alternate screen now (see `AlternateScreenTracker`). Only
   * then is it left: leaving it also restores a saved cursor, which on the normal screen would
   * move the cursor up over the output.
   * @default true
   */
  alternateScreen?: boolean;
  /**
   * Whether the cursor is known to be at column 0 of an empty line; otherwise a line feed starts
   * a new one.
   * @default false
   */
  atLineStart?: boolean;
}

/**
 * The sequence that gives a terminal back after a session was shown in it: leave the alternate
 * screen (when shown), reset every mode (see `TERMINAL_RESTORE`), then move to the start of a
 * clean line and erase it, so a message printed next (`[detached]`) never lands in the middle
 * of the program's screen.
 *
 * @example
 * ```ts
 * process.stdout.write(`${restoreTerminal({ alternateScreen: tracker.active })}[detached]\r\n`);
 * ```
 */
export function restoreTerminal(options: RestoreOptions = {}): string {
  const leave = options.alternateScreen === false ? '' : LEAVE_ALTERNATE;
  return `${leave}${MODES_RESET}${options.atLineStart ? '\r' : '\r\n'}\x1b[2K`;
}

/**
 * Follows whether the output written to a terminal left it on the alternate screen (xterm's
 * modes 1049, 1047 and 47, and a full reset). Feed it every chunk written, in order; sequences
 * cut between chunks are seen.
 */
export class AlternateScreenTracker {
  #active = false;
  #carry = '';

  /** Whether the alternate screen is shown after everything pushed. */
  get active(): boolean {
    return this.#active;
  }

  /** Notes one chunk written to the terminal. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const text = this.#carry + Buffer.from(chunk).toString('latin1');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences
    const re = /\x1b\[\?(?:1049|1047|47)([hl])|\x1bc/g;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) this.#active = m[1] === 'h';
    // A sequence may continue in the next chunk; re-reading a whole one twice changes nothing.
    this.#carry = text.slice(-12);
  }
}
