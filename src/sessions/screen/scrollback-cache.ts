/**
 * Serialized scrollback rows kept for the session's life, so that an attach serializes only the
 * rows added since the last snapshot (or since the screen was last idle, see `fill`) and hands
 * the rest out as a few views of large slabs, without copying.
 *
 * Rows are numbered absolutely (rows trimmed from the buffer's front so far plus their index); a
 * row in the scrollback never changes until a resize rewraps the buffer (`invalidate`) or a reset
 * replaces it (noticed by identity). The newest scrollback row is never kept: whether it ends with
 * a line break depends on the row after it, which is still on the screen. Kept bytes are bounded
 * (`maxBytes`): past it, newer rows are serialized at each snapshot instead of kept.
 */
import type { Terminal } from '@xterm/headless';
import {
  type ByteWriter,
  forEachRow,
  PartList,
  RowWriter,
  serializeScrollback,
} from './line-serializer.js';

interface TrimmableLines {
  onTrim(listener: (amount: number) => void): { dispose(): void };
}

/** Kept rows' slabs and ranges in parallel arrays, from index `#head` on (see the module comment). */
export class ScrollbackCache {
  readonly #term: Terminal;
  readonly #maxBytes: number;
  #slab: ByteWriter[] = [];
  #begin: number[] = [];
  #end: number[] = [];
  /** Index in the arrays of the oldest kept row (rows before it left the buffer). */
  #head = 0;
  /** Absolute number of the row at `#head`. */
  #start = 0;
  #trimmed = 0;
  #bytes = 0;
  #rows: RowWriter | undefined;
  #hooked: unknown;
  #subscription: { dispose(): void } | undefined;

  /** `maxBytes`: the most serialized bytes kept (rows past it are serialized when asked). */
  constructor(term: Terminal, maxBytes: number) {
    this.#term = term;
    this.#maxBytes = maxBytes;
  }

  /** Rows kept. */
  get rows(): number {
    return this.#end.length - this.#head;
  }

  /** Bytes of serialized rows kept (their slabs may hold a little more). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Forgets every kept row (the buffer was rewrapped). */
  invalidate(): void {
    this.#slab = [];
    this.#begin = [];
    this.#end = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#rows = undefined;
  }

  /**
   * Serializes and keeps the scrollback rows before `to` (the scrollback's end) not kept yet, so
   * that the next snapshot finds them ready. Does nothing when xterm.js's internals moved.
   */
  fill(to: number): void {
    if (!this.#hook()) return;
    this.#align(0);
    const from = this.#start + this.rows - this.#trimmed;
    // Nothing new, or the bound reached: what is not kept is serialized by the snapshot.
    if (from >= to - 1 || this.#bytes >= this.#maxBytes) return;
    if (!this.#keep(from, to, undefined)) this.invalidate();
  }

  /**
   * As `serializeScrollback(term, from, to)`: the rows as a few views, reusing kept rows and
   * keeping the new ones (all but the newest). Undefined when xterm.js's internals moved.
   */
  serialize(from: number, to: number): Buffer[] | undefined {
    const term = this.#term;
    if (!this.#hook()) return serializeScrollback(term, from, to);
    this.#align(from);
    const parts = new PartList();
    // Kept rows first: they are the oldest of the range.
    const skip = this.#head + this.#trimmed + from - this.#start;
    const kept = Math.max(0, Math.min(this.#end.length - skip, to - 1 - from));
    for (let i = skip, n = skip + kept; i < n; i++) {
      parts.add(this.#slab[i]!, this.#begin[i]!, this.#end[i]!);
    }
    if (from + kept < to && !this.#keep(from + kept, to, parts)) {
      this.invalidate();
      return undefined;
    }
    return parts.done();
  }

  /** Stops listening and lets go of every kept row. */
  dispose(): void {
    this.#subscription?.dispose();
    this.#subscription = undefined;
    this.invalidate();
  }

  /**
   * Lets go of rows that left the buffer; then, when the range starting at row `from` begins
   * before the kept rows or after a gap, starts the cache over at `from`.
   */
  #align(from: number): void {
    this.#dropBefore(this.#trimmed);
    const first = this.#trimmed + from;
    if (first < this.#start || first > this.#start + this.rows) {
      this.invalidate();
      this.#start = first;
    }
  }

  /**
   * Serializes rows `from` to `to` (exclusive), keeping each that extends the kept rows without
   * a gap, within the byte bound; all but the newest row (`to - 1`), whose bytes go to a writer
   * of their own. Adds every row to `parts` when given. False when the internals moved.
   */
  #keep(from: number, to: number, parts: PartList | undefined): boolean {
    const term = this.#term;
    this.#rows ??= new RowWriter(term.cols, to - from);
    const rows = this.#rows;
    return forEachRow(term, from, to, (line, continued, y) => {
      if (y === to - 1) {
        if (!parts) return false;
        const last = new RowWriter(term.cols, 1);
        const begin = last.row(line, continued, 1);
        parts.add(last.slab, begin, last.slab.length);
        return true;
      }
      const keep = this.#start + this.rows === this.#trimmed + y && this.#bytes < this.#maxBytes;
      // A fill only keeps rows: it stops where it cannot.
      if (!parts && !keep) return false;
      const begin = rows.row(line, continued, to - y);
      const slab = rows.slab;
      const end = slab.length;
      parts?.add(slab, begin, end);
      if (keep) {
        this.#slab.push(slab);
        this.#begin.push(begin);
        this.#end.push(end);
        this.#bytes += end - begin;
      }
      return true;
    });
  }

  /** Lets go of kept rows before absolute row `first` (they left the buffer). */
  #dropBefore(first: number): void {
    if (first <= this.#start) return;
    if (first >= this.#start + this.rows) {
      this.invalidate();
      this.#start = first;
      return;
    }
    const head = this.#head + first - this.#start;
    for (let i = this.#head; i < head; i++) this.#bytes -= this.#end[i]! - this.#begin[i]!;
    this.#head = head;
    this.#start = first;
    // Let the arrays (and so the slabs of dropped rows) go once half of them is dead.
    if (this.#head > 1024 && this.#head * 2 > this.#end.length) {
      this.#slab = this.#slab.slice(this.#head);
      this.#begin = this.#begin.slice(this.#head);
      this.#end = this.#end.slice(this.#head);
      this.#head = 0;
    }
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
      this.invalidate();
      this.#subscription = lines.onTrim((amount) => {
        this.#trimmed += amount;
      });
    }
    return true;
  }
}
