/**
 * Splitting a child's output into lines by bytes: a line is what lies between two `\n` bytes
 * (0x0A never occurs inside a UTF-8 multi-byte character, so splitting before decoding is exact),
 * and the unfinished line is bounded by `maxLineBytes`. Text and raw consumers share it.
 */

/** Receives each line: its bytes without the `\n`, and whether it ended at a `\n`. */
export type LineSink = (line: Buffer, complete: boolean) => void;

/**
 * Turns byte chunks into lines. A line longer than `maxLineBytes` is emitted in pieces of at
 * most that size (`complete: false` for all but the last). With `keepCharacters`, a piece ends
 * at a UTF-8 character boundary (at most 3 bytes shorter), so decoding a piece never splits a
 * character. The emitted buffers may share memory with the chunks pushed; copy one to keep it.
 */
export class ByteLineSplitter {
  #pieces: Buffer[] = [];
  #pending = 0;
  readonly #max: number;
  readonly #keepCharacters: boolean;

  constructor(maxLineBytes: number, keepCharacters: boolean) {
    this.#max = maxLineBytes;
    this.#keepCharacters = keepCharacters;
  }

  /** Bytes of the unfinished line held now. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** Feeds one chunk; calls `emit` for every line (or piece) it completes. */
  push(chunk: Buffer, emit: LineSink): void {
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl >= 0) {
      let line = chunk.subarray(start, nl);
      if (this.#pieces.length > 0) {
        this.#pieces.push(line);
        line = Buffer.concat(this.#pieces, this.#pending + line.length);
        this.#pieces = [];
        this.#pending = 0;
      }
      this.#emitCut(line, true, emit);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = start === 0 ? chunk : chunk.subarray(start);
      this.#pieces.push(rest);
      this.#pending += rest.length;
      if (this.#pending > this.#max) this.#cut(emit);
    }
  }

  /** Flushes the unterminated last line, if any (as `complete: true`: the stream ended it). */
  end(emit: LineSink): void {
    if (this.#pending === 0) {
      this.#pieces = [];
      return;
    }
    const line = Buffer.concat(this.#pieces, this.#pending);
    this.#pieces = [];
    this.#pending = 0;
    this.#emitCut(line, true, emit);
  }

  /** Drops the unfinished line. */
  reset(): void {
    this.#pieces = [];
    this.#pending = 0;
  }

  /** Where to cut `buf` so the first piece has at most `max` bytes and ends on a character. */
  #cutAt(buf: Buffer): number {
    let at = this.#max;
    if (this.#keepCharacters) {
      // Step back over continuation bytes (10xxxxxx) so the next piece starts a character.
      let back = 0;
      while (back < 3 && at > 1 && (buf[at]! & 0xc0) === 0x80) {
        at--;
        back++;
      }
      if ((buf[at]! & 0xc0) === 0x80) at = this.#max; // not UTF-8 anyway: cut at the limit
    }
    return at;
  }

  #emitCut(line: Buffer, complete: boolean, emit: LineSink): void {
    let rest = line;
    while (rest.length > this.#max) {
      const at = this.#cutAt(rest);
      emit(rest.subarray(0, at), false);
      rest = rest.subarray(at);
    }
    emit(rest, complete);
  }

  #cut(emit: LineSink): void {
    let all = this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces);
    while (all.length > this.#max) {
      const at = this.#cutAt(all);
      emit(all.subarray(0, at), false);
      all = all.subarray(at);
    }
    // What is left is copied: keeping a small slice must not keep the whole joined buffer alive.
    this.#pieces = all.length > 0 ? [Buffer.from(all)] : [];
    this.#pending = all.length;
  }
}

/**
 * A line as text: decoded as UTF-8 (an invalid byte becomes U+FFFD), with a `\r` right before
 * the `\n` removed when the line is complete, so CRLF output reads the same as LF.
 */
export function lineText(line: Buffer, complete: boolean): string {
  const end =
    complete && line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}
