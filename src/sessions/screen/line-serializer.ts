/**
 * A fast serializer for the scrollback: turns lines of an xterm.js buffer into text with SGR
 * colours and attributes, reading each line's packed cell array directly. The serialize addon
 * reads cell by cell through the public cell API and took about a second for 10,000 lines of 200
 * columns; this takes a few milliseconds, which is what keeps an attach under 20 ms.
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

interface RawLine {
  _data: Uint32Array;
  isWrapped: boolean;
  length: number;
  getString(x: number): string;
}

function rawLine(term: Terminal, y: number): RawLine | undefined {
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
  let fg = 0;
  let bg = 0;
  for (let x = 0; x < end; x++) {
    const i = x * 3;
    const content = data[i]!;
    if (content >>> WIDTH_SHIFT === 0) continue; // the placeholder after a wide character
    const cfg = data[i + 1]! & FG_STYLE_MASK;
    const cbg = data[i + 2]! & BG_STYLE_MASK;
    if (cfg !== fg || cbg !== bg) {
      out.text(sgr(cfg, cbg) || '\x1b[0m');
      fg = cfg;
      bg = cbg;
      out.reserve(end - x + 16);
    }
    const cp = content & CODEPOINT_MASK;
    if (content & IS_COMBINED) {
      out.text(line.getString(x));
      out.reserve(end - x + 16);
    } else if (cp < 0x80) {
      // ASCII, or a blank cell (0) as a space: room was reserved for one byte a cell.
      out.buf[out.length++] = cp === 0 ? 0x20 : cp;
    } else {
      out.text(String.fromCodePoint(cp));
      out.reserve(end - x + 16);
    }
  }
  if (fg !== 0 || bg !== 0) out.text('\x1b[0m');
}

/**
 * Rows `from` (inclusive) to `to` (exclusive) of the normal buffer as UTF-8 lines, each ended by
 * `\r\n` unless the next row continues it (a wrapped line: then the row is written whole and
 * the terminal's own auto-wrap continues it). `reuse(y)` may supply an earlier serialization of
 * row `y`; `keep(y, bytes)` is told each row serialized here. Undefined when xterm.js's internal
 * layout is not as expected.
 */
export function serializeScrollback(
  term: Terminal,
  from: number,
  to: number,
  reuse: (y: number) => Buffer | undefined = () => undefined,
  keep: (y: number, bytes: Buffer) => void = () => {},
): Buffer[] | undefined {
  const parts: Buffer[] = [];
  let out = new ByteWriter(Math.min(to - from, 1024) * (term.cols + 32));
  for (let y = from; y < to; y++) {
    const cached = reuse(y);
    if (cached) {
      parts.push(cached);
      continue;
    }
    const line = rawLine(term, y);
    if (!line) return undefined;
    const next = y + 1 < to ? rawLine(term, y + 1) : undefined;
    const continued = next?.isWrapped === true;
    if (out.length > 256 * 1024) out = new ByteWriter(1024 * (term.cols + 32));
    const begin = out.length;
    serializeLine(out, line, term.cols, continued);
    if (!continued) {
      out.byte(0x0d);
      out.byte(0x0a);
    }
    const bytes = out.buf.subarray(begin, out.length);
    keep(y, bytes);
    parts.push(bytes);
  }
  return parts;
}

interface TrimmableLines {
  onTrim(listener: (amount: number) => void): { dispose(): void };
}

/**
 * Serialized scrollback lines kept between snapshots, so a re-attach serializes only the lines
 * added since the last one. Lines are numbered absolutely (lines trimmed from the buffer's front
 * so far plus their index); a line in the scrollback never changes until a resize rewraps the
 * buffer (`invalidate`) or a reset replaces it (noticed by identity). The newest scrollback line
 * is never kept: whether it ends with a line break depends on the row after it.
 */
export class ScrollbackCache {
  #term: Terminal;
  #lines: Buffer[] = [];
  /** Absolute number of `#lines[0]`. */
  #start = 0;
  #trimmed = 0;
  #hooked: unknown;
  #subscription: { dispose(): void } | undefined;

  constructor(term: Terminal) {
    this.#term = term;
  }

  /** Forgets every kept line (the buffer was rewrapped). */
  invalidate(): void {
    this.#lines = [];
  }

  /** Bytes held. */
  get bytes(): number {
    let n = 0;
    for (const b of this.#lines) n += b.length;
    return n;
  }

  /** As `serializeScrollback`, reusing and keeping lines. */
  serialize(from: number, to: number): Buffer[] | undefined {
    if (!this.#hook()) return serializeScrollback(this.#term, from, to);
    const first = this.#trimmed + from;
    // Drop what left the buffer; a gap or a reset restarts the cache.
    if (first < this.#start || first > this.#start + this.#lines.length) {
      this.#lines = [];
      this.#start = first;
    } else if (first > this.#start) {
      this.#lines = this.#lines.slice(first - this.#start);
      this.#start = first;
    }
    const last = to - 1; // never reused nor kept
    return serializeScrollback(
      this.#term,
      from,
      to,
      (y) => (y < last ? this.#lines[this.#trimmed + y - this.#start] : undefined),
      (y, bytes) => {
        if (y < last && this.#trimmed + y === this.#start + this.#lines.length) {
          this.#lines.push(bytes);
        }
      },
    );
  }

  /** Stops listening. */
  dispose(): void {
    this.#subscription?.dispose();
    this.#subscription = undefined;
    this.#lines = [];
  }

  /** Follows the normal buffer's trims; false when its internals are not reachable. */
  #hook(): boolean {
    const lines = (
      this.#term as unknown as {
        _core?: { _bufferService?: { buffers?: { normal?: { lines?: TrimmableLines } } } };
      }
    )._core?._bufferService?.buffers?.normal?.lines;
    if (!lines || typeof lines.onTrim !== 'function') return false;
    if (lines !== this.#hooked) {
      this.#subscription?.dispose();
      this.#hooked = lines;
      this.#lines = [];
      this.#subscription = lines.onTrim((amount) => {
        this.#trimmed += amount;
      });
    }
    return true;
  }
}
