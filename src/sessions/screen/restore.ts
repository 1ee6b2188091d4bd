/**
 * What a client writes to the user's terminal when it stops showing a session (detach, exit,
 * a stolen seat, an error): the terminal goes back to the modes a shell expects, whatever modes
 * the program had set, and the next line starts on a clean line.
 */

/**
 * Puts a terminal back into a shell's modes, in this order: leave the alternate screen (the
 * normal screen and its cursor come back), reset the scroll region (`CSI r`, which also homes the
 * cursor on some terminals, hence before the cursor restore), restore the cursor saved on entering
 * the alternate screen, show the cursor with the terminal's default shape, turn off every mouse
 * reporting mode and encoding, focus reporting, bracketed paste, application cursor keys and
 * application keypad, insert and origin modes; turn auto-wrap on; reset colours and attributes;
 * select the ASCII character set.
 *
 * It never asks the terminal anything, so nothing is typed back.
 */
export const TERMINAL_RESTORE: string = [
  '\x1b[?1049l', // leave the alternate screen (restores the normal cursor)
  '\x1b[?47l\x1b[?1047l', // older alternate-screen modes
  '\x1b[r', // scroll region: the whole screen
  '\x1b[?6l', // origin mode off
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

/**
 * The restore sequence followed by a move to the start of a clean line: a line feed when the
 * cursor may be in the middle of a line (`atLineStart` false, the default), then an erase of that
 * line, so a message printed next (`[detached]`) never lands in the middle of the program's
 * screen.
 *
 * @param atLineStart - true when the caller knows the cursor is at column 0 of an empty line.
 * @default atLineStart false
 * @example
 * ```ts
 * process.stdout.write(`${restoreTerminal()}[detached from ${id}]\r\n`);
 * ```
 */
export function restoreTerminal(atLineStart = false): string {
  return `${TERMINAL_RESTORE}${atLineStart ? '\r' : '\r\n'}\x1b[2K`;
}
