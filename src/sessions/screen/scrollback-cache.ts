/**
 * Serialized scrollback rows kept between snapshots, so that a re-attach serializes only the rows
 * added since the last one and hands the rest out as a few views of large slabs, without copying.
 *
 * Rows are numbered absolutely (rows trimmed from the buffer's front so far plus their index); a
 * row in the scrollback never changes until a resize rewraps the buffer (`invalidate`) or a reset
 * replaces it (noticed by identity). The newest scrollback row is never kept: whether it ends with
 * a line break depends on the row after it, which is still on the screen.
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
  #slab: ByteWriter[] = [];
  #begin: number[] = [];
  #end: number[] = [];
  /** Index in the arrays of the oldest kept row (rows before it left the buffer). */
  #head = 0;
  /** Absolute number of the row at `#head`. */
  #start = 0;
  #trimmed = 0;
  #rows: RowWriter | undefined;
  #hooked: unknown;
  #subscription: { dispose(): void } | undefined;

  constructor(term: Terminal) {
    this.#term = term;
  }

  /** Rows kept. */
  get rows(): number {
    return this.#end.length - this.#head;
  }

  /** Bytes of serialized rows kept (their slabs may hold a little more). */
  get bytes(): number {
    let n = 0;
    for (let i = this.#head; i < this.#end.length; i++) n += this.#end[i]! - this.#begin[i]!;
    return n;
  }

  /** Forgets every kept row (the buffer was rewrapped, or nobody attached for a while). */
  invalidate(): void {
    this.#slab = [];
    this.#begin = [];
    this.#end = [];
    this.#head = 0;
    this.#rows = undefined;
  }

  /**
   * As `serializeScrollback(term, from, to)`: the rows as a few views, reusing kept rows and
   * keeping the new ones (all but the newest). Undefined when xterm.js's internals moved.
   */
  serialize(from: number, to: number): Buffer[] | undefined {
    const term = this.#term;
    if (!this.#hook()) return serializeScrollback(term, from, to);
    this.#dropBefore(this.#trimmed);
    const first = this.#trimmed + from;
    // A range that starts before the kept rows, or after a gap, starts the cache over.
    if (first < this.#start || first > this.#start + this.rows) {
      this.invalidate();
      this.#start = first;
    }
    const parts = new PartList();
    // Kept rows first: they are the oldest of the range.
    const skip = this.#head + first - this.#start;
    const kept = Math.max(0, Math.min(this.#end.length - skip, to - 1 - from));
    for (let i = skip, n = skip + kept; i < n; i++) {
      parts.add(this.#slab[i]!, this.#begin[i]!, this.#end[i]!);
    }
    const rest = from + kept;
    if (rest < to) {
      this.#rows ??= new RowWriter(term.cols, to - rest);
      const rows = this.#rows;
      const ok = forEachRow(term, rest, to, (line, continued, y) => {
        if (y === to - 1) {
          // The newest row goes to a writer of its own: its bytes are not kept.
          const last = new RowWriter(term.cols, 1);
          const begin = last.row(line, continued, 1);
          parts.add(last.slab, begin, last.slab.length);
          return;
        }
        const begin = rows.row(line, continued, to - y);
        const slab = rows.slab;
        // Kept only where it extends the kept rows without a gap.
        if (this.#start + this.rows !== this.#trimmed + y) {
          parts.add(slab, begin, slab.length);
          return;
        }
        this.#slab.push(slab);
        this.#begin.push(begin);
        this.#end.push(slab.length);
        parts.add(slab, begin, slab.length);
      });
      if (!ok) {
        this.invalidate();
        return undefined;
      }
    }
    return parts.done();
  }

  /** Stops listening and lets go of every kept row. */
  dispose(): void {
    this.#subscription?.dispose();
    this.#subscription = undefined;
    this.invalidate();
  }

  /** Lets go of kept rows before absolute row `first` (they left the buffer). */
  #dropBefore(first: number): void {
    if (first <= this.#start) return;
    if (first >= this.#start + this.rows) {
      this.invalidate();
      this.#start = first;
      return;
    }
    this.#head += first - this.#start;
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
