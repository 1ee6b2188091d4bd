/**
 * A growable ring-buffer FIFO: O(1) push and shift without the O(n) `Array.prototype.shift`.
 * Internal to flow.
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private mask: number;
  length = 0;

  constructor(initial = 16) {
    let size = 16;
    while (size < initial) size *= 2;
    this.buf = new Array<T | undefined>(size);
    this.mask = size - 1;
  }

  push(value: T): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.head + this.length) & this.mask] = value;
    this.length++;
  }

  /** Removes and returns the oldest element; undefined when empty. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const value = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return value;
  }

  /** The oldest element without removing it. */
  peek(): T | undefined {
    return this.length === 0 ? undefined : this.buf[this.head];
  }

  /** Removes the first element equal to `value`; true when one was removed. O(n). */
  remove(value: T): boolean {
    for (let i = 0; i < this.length; i++) {
      if (this.buf[(this.head + i) & this.mask] === value) {
        for (let j = i; j < this.length - 1; j++) {
          this.buf[(this.head + j) & this.mask] = this.buf[(this.head + j + 1) & this.mask];
        }
        this.buf[(this.head + this.length - 1) & this.mask] = undefined;
        this.length--;
        return true;
      }
    }
    return false;
  }

  /** Removes every element matching `pred`, in order, returning them. O(n). */
  removeWhere(pred: (value: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    while (this.length > 0) {
      const v = this.shift() as T;
      (pred(v) ? removed : kept).push(v);
    }
    for (const v of kept) this.push(v);
    return removed;
  }

  private grow(): void {
    const old = this.buf;
    const size = old.length * 2;
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = size - 1;
  }
}
