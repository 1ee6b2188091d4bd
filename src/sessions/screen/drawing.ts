/**
 * How a snapshot is drawn: the prefix that readies the user's terminal, the cells (scrollback,
 * screen, alternate screen) for an empty screen, and the reflow for a viewer of another size.
 */
import type { ScrollbackCache } from './line-serializer.js';
import { serializeScrollback } from './line-serializer.js';
import { TERMINAL_RESTORE } from './restore.js';
import { readTerminalState, stateSequence, type TerminalState } from './terminal-state.js';
import { type HeadlessTerminal, makeTerminal, type SerializeAddon, xterm } from './xterm.js';

/** A drawable copy of the screen at one output offset (see `ScreenModel.snapshot`). */
export interface ScreenSnapshot {
  /** `data` without its prefix: what draws the screen into a fresh terminal of this size. */
  body: Buffer;
  /**
   * Bytes that, written to a terminal of `rows`×`cols`, reset its modes, push what it showed into
   * its scrollback, then draw the scrollback lines, the screen (both buffers, cursor, colours and
   * attributes, scroll region) and set the program's modes. Holds no query.
   */
  data: Buffer;
  /** Output offset the snapshot reflects: live output continues from here. */
  offset: number;
  /** Height in cells of the terminal the snapshot draws (the reflowed size when one was asked). */
  rows: number;
  /** Width in cells of the terminal the snapshot draws. */
  cols: number;
  /** Scrollback lines included. */
  scrollbackLines: number;
  /** The modes the snapshot restores. */
  state: TerminalState;
}

/**
 * The cells, for a terminal whose screen is empty with the cursor at home: the last `lines` lines
 * of scrollback (fast path, see line-serializer.ts), scrolled up into the terminal's own
 * scrollback, then the screen rows of the normal buffer, then the alternate screen when shown.
 */
export function serializeBody(
  term: HeadlessTerminal,
  serializer: SerializeAddon,
  lines: number,
  cache?: ScrollbackCache,
): Buffer[] {
  const base = term.buffer.normal.baseY;
  const screen = serializer.serialize({
    range: { start: base, end: base + term.rows - 1 },
    excludeModes: true,
  });
  if (lines === 0) return [Buffer.from(screen)];
  const history = cache
    ? cache.serialize(base - lines, base)
    : serializeScrollback(term, base - lines, base);
  if (history === undefined) {
    // xterm.js's internals moved: the addon is slower but serializes the same lines.
    return [Buffer.from(serializer.serialize({ scrollback: lines, excludeModes: true }))];
  }
  // Written from the top, the history ends on screen; scroll what shows of it up into the
  // terminal's scrollback (k line feeds on the bottom row push the top k rows), then draw the
  // screen from home.
  const shown = Math.min(lines, term.rows - 1);
  return [...history, Buffer.from(`\x1b[${term.rows};1H${'\n'.repeat(shown)}\x1b[H${screen}`)];
}

/**
 * Before the cells: the restore sequence (whatever modes the user's terminal was left in), then
 * enough line feeds at the bottom row to move what it showed into its scrollback, then home and
 * erase, so the snapshot draws on an empty screen without destroying the user's history.
 */
export function drawPrefix(rows: number): string {
  return `${TERMINAL_RESTORE}\x1b[${rows};1H${'\n'.repeat(rows)}\x1b[H\x1b[2J`;
}

/**
 * The policy for a viewer of another size: the snapshot is drawn into a scratch terminal of the
 * session's size, which is then resized to the viewer's (xterm.js rewraps the normal buffer and
 * keeps the bottom of the screen) and serialized again.
 */
export async function reflowSnapshot(
  snap: ScreenSnapshot,
  rows: number,
  cols: number,
  scrollbackLines: number,
): Promise<ScreenSnapshot> {
  const scratch = makeTerminal(snap.rows, snap.cols, Math.max(scrollbackLines, 0), true);
  const serializer = new (xterm().SerializeAddon)();
  scratch.loadAddon(serializer as unknown as Parameters<HeadlessTerminal['loadAddon']>[0]);
  try {
    await new Promise<void>((resolve) => scratch.write(snap.body, resolve));
    scratch.resize(cols, rows);
    const state = readTerminalState(scratch);
    const lines = scratch.buffer.normal.baseY;
    const body = Buffer.concat([
      ...serializeBody(scratch, serializer, lines),
      Buffer.from(stateSequence(state, rows)),
    ]);
    return {
      data: Buffer.concat([Buffer.from(drawPrefix(rows)), body]),
      body,
      offset: snap.offset,
      rows,
      cols,
      scrollbackLines: lines,
      state,
    };
  } finally {
    scratch.dispose();
  }
}
