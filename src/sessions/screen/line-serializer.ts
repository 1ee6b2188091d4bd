/**
 * A fast serializer for the scrollback: turns lines of an xterm.js buffer into text with SGR
 * colours and attributes, reading each line's packed cell array directly. The serialize addon
 * reads cell by cell through the public cell API and took about a second for 10,000 lines of 200
 * columns; this takes about 15 ms, once per row (scrollback-cache.ts keeps the bytes), writing
 * rows into 256 KiB slabs so that a whole scrollback is a dozen views, not one Buffer a row.
 *
 * It relies on xterm.js's cell layout (three 32-bit words a cell: content, foreground with the
 * text flags, background with more flags), which is internal; `serializeScrollback` checks that
 * the layout is there and returns undefined otherwise, and the caller falls back to the addon.
 * Kept: characters (wide and combined), 16/256/true colours, bold, dim, italic, underline, blink,
 * inverse, invisible, strikethrough, overline. Not kept in the scrollback (kept on the screen,
 * which the addon serializes): underline styles and colours, hyperlinks.
 */
import type { Terminal } from '@xterm/headless';

/** The content word: code point, "combined" flag, width. */
const CODEPOINT_MASK = 0x1fffff;
const IS_COMBINED = 0x200000;
const WIDTH_SHIFT = 22;
/** Content bits that are set unless the cell holds one ASCII character (or nothing). */
const NOT_ASCII = (CODEPOINT_MASK | IS_COMBINED) & ~0x7f;
/** Colour words: colour (24 bits), colour mode (2 bits), then flags. */
const COLOR_MASK = 0xffffff;
const MODE_MASK = 0x3000000;
const MODE_P16 = 0x1000000;
const MODE_P256 = 0x2000000;
const MODE_RGB = 0x3000000;
const FG_FLAGS: [number, string][] = [
  [0x8000000, '1'], // bold
  [0x10000000, '4'], // underline
  [0x20000000, '5'], // blink
  [0x4000000, '7'], // inverse
  [0x40000000, '8'], // invisible
  [0x80000000, '9'], // strikethrough
];
const BG_FLAGS: [number, string][] = [
  [0x8000000, '2'], // dim
  [0x4000000, '3'], // italic
  [0x40000000, '53'], // overline
];
const FG_STYLE_MASK = MODE_MASK | COLOR_MASK | FG_FLAGS.reduce((m, [f]) => m | f, 0);
const BG_STYLE_MASK = MODE_MASK | COLOR_MASK | BG_FLAGS.reduce((m, [f]) => m | f, 0);

/** The internal row of xterm.js's buffer this module reads. */
export interface RawLine {
  _data: Uint32Array;
  isWrapped: boolean;
  length: number;
  getString(x: number): string;
}

/** Row `y` of the normal buffer, or undefined when its internal layout is not as expected. */
export function rawLine(term: Terminal, y: number): RawLine | undefined {
  const view = term.buffer.normal.getLine(y) as unknown as { _line?: RawLine } | undefined;
  const line = view?._line;
  if (
    !line ||
    !(line._data instanceof Uint32Array) ||
    typeof line.getString !== 'function' ||
    line._data.length < line.length * 3
  ) {
    return undefined;
  }
  return line;
}

function colorParams(word: number, base: number): string {
  const color = word & COLOR_MASK;
  switch (word & MODE_MASK) {
    case MODE_P16:
      return color < 8 ? String(base + color) : String(base + 60 + color - 8);
    case MODE_P256:
      return `${base + 8};5;${color}`;
    case MODE_RGB:
      return `${base + 8};2;${(color >> 16) & 255};${(color >> 8) & 255};${color & 255}`;
    default:
      return '';
  }
}

/** Appends bytes to a growing buffer: no intermediate strings for 2 million cells. */
export class ByteWriter {
  buf: Buffer;
  length = 0;

  constructor(expected: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, expected));
  }

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  text(s: string): void {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** The SGR that sets exactly this style from a reset state ('' for the default style). */
function sgr(fg: number, bg: number): string {
  const params: string[] = [];
  for (const [flag, p] of FG_FLAGS) if (fg & flag) params.push(p);
  for (const [flag, p] of BG_FLAGS) if (bg & flag) params.push(p);
  const f = colorParams(fg, 30);
  if (f) params.push(f);
  const b = colorParams(bg, 40);
  if (b) params.push(b);
  return params.length === 0 ? '' : `\x1b[0;${params.join(';')}m`;
}

/** Most recently used styles' SGR bytes, by foreground word then background word. */
const sgrCache = new Map<number, Map<number, Uint8Array>>();
const SGR_CACHE_STYLES = 1024;
let sgrCached = 0;
const SGR_RESET = Uint8Array.from(Buffer.from('\x1b[0m'));

/** `sgr(fg, bg)` (or a reset for the default style) as bytes, encoded once per style. */
function sgrBytes(fg: number, bg: number): Uint8Array {
  let byBg = sgrCache.get(fg);
  let bytes = byBg?.get(bg);
  if (bytes) return bytes;
  // A program with many true colours would grow the cache without end: start it over.
  if (sgrCached >= SGR_CACHE_STYLES) {
    sgrCache.clear();
    sgrCached = 0;
    byBg = undefined;
  }
  const s = sgr(fg, bg);
  bytes = s === '' ? SGR_RESET : Uint8Array.from(Buffer.from(s));
  if (!byBg) {
    byBg = new Map();
    sgrCache.set(fg, byBg);
  }
  byBg.set(bg, bytes);
  sgrCached++;
  return bytes;
}

/** One line: its cells with style changes; trailing default blanks dropped unless `full`. */
function serializeLine(out: ByteWriter, line: RawLine, cols: number, full: boolean): void {
  const data = line._data;
  const width = Math.min(cols, line.length);
  // The last cell worth writing: not blank, or blank with a style (a coloured background).
  let end = width;
  if (!full) {
    while (end > 0) {
      const i = (end - 1) * 3;
      if ((data[i]! & (CODEPOINT_MASK | IS_COMBINED)) !== 0) break;
      if ((data[i + 1]! & FG_STYLE_MASK) !== 0 || (data[i + 2]! & BG_STYLE_MASK) !== 0) break;
      end--;
    }
  }
  out.reserve(end + 16);
  // The writer's buffer and position live in locals through the cell loop (this loop runs for
  // every cell of a 10,000-line scrollback); they are handed back around every non-ASCII write.
  let buf = out.buf;
  let pos = out.length;
  let fg = 0;
  let bg = 0;
  // Module constants copied to locals: the loop then needs no context loads.
  const fgMask = FG_STYLE_MASK;
  const bgMask = BG_STYLE_MASK;
  for (let x = 0, i = 0; x < end; x++, i += 3) {
    const content = data[i]!;
    const cfg = data[i + 1]! & fgMask;
    const cbg = data[i + 2]! & bgMask;
    if ((content & NOT_ASCII) === 0 && cfg === fg && cbg === bg) {
      // ASCII in the current style, or a blank cell (0) as a space: the common case (room was
      // reserved for one byte a cell). Width 0 is the placeholder after a wide character.
      if (content >>> WIDTH_SHIFT !== 0) buf[pos++] = content & 0x7f || 0x20;
      continue;
    }
    if (content >>> WIDTH_SHIFT === 0) continue;
    const cp = content & CODEPOINT_MASK;
    if (cfg !== fg || cbg !== bg) {
      const seq = sgrBytes(cfg, cbg);
      if (pos + seq.length + end - x > buf.length) {
        out.length = pos;
        out.reserve(seq.length + end - x + 16);
        buf = out.buf;
      }
      for (let k = 0; k < seq.length; k++) buf[pos++] = seq[k]!;
      fg = cfg;
      bg = cbg;
      if (cp < 0x80 && (content & IS_COMBINED) === 0) {
        buf[pos++] = cp === 0 ? 0x20 : cp;
        continue;
      }
    }
    if (content & IS_COMBINED) {
      out.length = pos;
      out.text(line.getString(x));
      out.reserve(end - x + 16);
      buf = out.buf;
      pos = out.length;
      continue;
    }
    // One code point past ASCII: UTF-8 by hand, with room for it and a byte a remaining cell.
    if (pos + 4 + end - x > buf.length) {
      out.length = pos;
      out.reserve(4 + end - x + 16);
      buf = out.buf;
    }
    if (cp < 0x800) {
      buf[pos++] = 0xc0 | (cp >> 6);
    } else {
      if (cp < 0x10000) {
        buf[pos++] = 0xe0 | (cp >> 12);
      } else {
        buf[pos++] = 0xf0 | (cp >> 18);
        buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
      }
      buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
    }
    buf[pos++] = 0x80 | (cp & 0x3f);
  }
  out.length = pos;
  if (fg !== 0 || bg !== 0) out.text('\x1b[0m');
}

/** Where a slab of serialized lines stops growing and the next begins. */
export const SLAB_BYTES = 256 * 1024;

/**
 * Serialized rows in slabs: each row's bytes are `[begin, end)` of its slab's buffer, rows of
 * one slab contiguous and in order. Bytes once written are never changed (a slab that grows is
 * copied; views of the old buffer keep the same bytes), so views handed out stay valid.
 */
export class RowWriter {
  #cols: number;
  /** The slab rows are being appended to. */
  slab: ByteWriter;

  constructor(cols: number, expectedRows: number) {
    this.#cols = cols;
    this.slab = new ByteWriter(RowWriter.#initial(cols, expectedRows));
  }

  static #initial(cols: number, rows: number): number {
    // Sized for the rows expected at 32 bytes each (at most one slab: a short scrollback of
    // short rows holds little memory; longer rows grow it), with room for the row that crosses
    // the slab's end, so that a full slab is rarely copied.
    return Math.min(SLAB_BYTES, Math.max(1, rows) * 32) + 4 * cols + 256;
  }

  /**
   * Appends one row (`continued`: the next row wraps on from it, so it is written whole with no
   * line break) to `slab` and returns where it begins there (it ends at `slab.length`).
   * `expectedRows` sizes a new slab when the current one is full.
   */
  row(line: RawLine, continued: boolean, expectedRows: number): number {
    if (this.slab.length >= SLAB_BYTES) {
      this.slab = new ByteWriter(RowWriter.#initial(this.#cols, expectedRows));
    }
    const begin = this.slab.length;
    serializeLine(this.slab, line, this.#cols, continued);
    if (!continued) {
      this.slab.reserve(2);
      this.slab.buf[this.slab.length++] = 0x0d;
      this.slab.buf[this.slab.length++] = 0x0a;
    }
    return begin;
  }
}

/** Joins views that follow each other in one slab: a few parts for thousands of rows. */
export class PartList {
  readonly parts: Buffer[] = [];
  #slab: ByteWriter | undefined;
  #begin = 0;
  #end = 0;

  add(slab: ByteWriter, begin: number, end: number): void {
    if (slab === this.#slab && begin === this.#end) {
      this.#end = end;
      return;
    }
    this.#flush();
    this.#slab = slab;
    this.#begin = begin;
    this.#end = end;
  }

  /** The parts, in order. */
  done(): Buffer[] {
    this.#flush();
    this.#slab = undefined;
    return this.parts;
  }

  #flush(): void {
    if (this.#slab && this.#end > this.#begin) {
      this.parts.push(this.#slab.buf.subarray(this.#begin, this.#end));
    }
  }
}

/**
 * Walks rows `from` (inclusive) to `to` (exclusive) of the normal buffer, reading each row once
 * and telling `visit` the row, whether the next row continues it (a wrapped line), and its
 * number; `visit` returning false stops the walk. False as soon as xterm.js's internal layout
 * is not as expected.
 */
export function forEachRow(
  term: Terminal,
  from: number,
  to: number,
  visit: (line: RawLine, continued: boolean, y: number) => boolean | undefined,
): boolean {
  let line = from < to ? rawLine(term, from) : undefined;
  for (let y = from; y < to; y++) {
    if (!line) return false;
    const next = y + 1 < to ? rawLine(term, y + 1) : undefined;
    if (y + 1 < to && !next) return false;
    if (visit(line, next?.isWrapped === true, y) === false) return true;
    line = next;
  }
  return true;
}

/**
 * Rows `from` (inclusive) to `to` (exclusive) of the normal buffer as UTF-8 lines, each ended by
 * `\r\n` unless the next row continues it (a wrapped line: then the row is written whole and
 * the terminal's own auto-wrap continues it), in a few large parts (never one Buffer a row).
 * Undefined when xterm.js's internal layout is not as expected.
 */
export function serializeScrollback(
  term: Terminal,
  from: number,
  to: number,
): Buffer[] | undefined {
  const rows = new RowWriter(term.cols, to - from);
  const parts = new PartList();
  const ok = forEachRow(term, from, to, (line, continued, y) => {
    const begin = rows.row(line, continued, to - y);
    parts.add(rows.slab, begin, rows.slab.length);
    return true;
  });
  return ok ? parts.done() : undefined;
}
