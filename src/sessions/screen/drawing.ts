/**
 * How a snapshot is drawn: the prefix that readies the user's terminal, the cells (scrollback,
 * screen, alternate screen) for an empty screen, and the reflow for a viewer of another size.
 */

import { serializeScrollback } from './line-serializer.js';
import { TERMINAL_RESTORE } from './restore.js';
import type { ScrollbackCache } from './scrollback-cache.js';
import { readTerminalState, stateSequence, type TerminalState } from './terminal-state.js';
import { type HeadlessTerminal, makeTerminal, type SerializeAddon, xterm } from './xterm.js';

/** A drawable copy of the screen at one output offset (see `ScreenModel.snapshot`). */
export interface ScreenSnapshot {
  /**
   * `data` without its prefix: what draws the screen into a fresh terminal of this size. Joined
   * from `parts` on first read.
   */
  readonly body: Buffer;
  /**
   * Bytes that, written to a terminal of `rows`×`cols`, reset its modes, push what it showed into
   * its scrollback, then draw the scrollback lines, the screen (both buffers, cursor, colours and
   * attributes, scroll region) and set the program's modes. Holds no query. Joined from `parts`
   * on first read.
   */
  readonly data: Buffer;
  /**
   * `data` in pieces, in order, without the copy that joins them: a sender writes these one
   * after the other. They may share memory with the model's kept scrollback; their bytes never
   * change, and writing to them is not allowed.
   */
  readonly parts: readonly Buffer[];
  /** The length of `data` in bytes. */
  readonly bytes: number;
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
 * A snapshot made of `prefix` then `bodyParts`: `data` and `body` are joined only when read (an
 * attach through the daemon writes the parts and never joins them).
 */
export function makeSnapshot(
  prefix: Buffer,
  bodyParts: Buffer[],
  fields: Omit<ScreenSnapshot, 'data' | 'body' | 'parts' | 'bytes'>,
): ScreenSnapshot {
  const parts = [prefix, ...bodyParts];
  let bytes = 0;
  for (const p of parts) bytes += p.length;
  let data: Buffer | undefined;
  let body: Buffer | undefined;
  return {
    ...fields,
    parts,
    bytes,
    get data(): Buffer {
      data ??= Buffer.concat(parts, bytes);
      return data;
    },
    get body(): Buffer {
      body ??= data
        ? data.subarray(prefix.length)
        : Buffer.concat(bodyParts, bytes - prefix.length);
      return body;
    },
  };
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
    return makeSnapshot(
      Buffer.from(drawPrefix(rows)),
      [...serializeBody(scratch, serializer, lines), Buffer.from(stateSequence(state, rows))],
      { offset: snap.offset, rows, cols, scrollbackLines: lines, state },
    );
  } finally {
    scratch.dispose();
  }
}
