/**
 * The text a script is parsed from. A template's values are stood in by one character each from
 * Unicode's private use area (U+E000 + index), so the lexer sees one string and a value counts as
 * one column; text from the command line has no values, so those characters are plain text there.
 */
import { ShellValueError } from '../errors.js';

/** First stand-in character; value `i` is `VALUE_BASE + i`. */
const VALUE_BASE = 0xe000;
/** Most values one template may hold (the size of the private use area). */
const MAX_VALUES = 0x1900;

/** A source text with its template values' stand-ins and a map from offsets to positions. */
export class Source {
  readonly text: string;
  readonly valueCount: number;
  readonly #lineStarts: number[] = [0];

  constructor(text: string, valueCount: number) {
    this.text = text;
    this.valueCount = valueCount;
    for (let i = 0; i < text.length; i++)
      if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
  }

  /** Joins a template's pieces (raw) with one stand-in per value. */
  static fromTemplate(pieces: readonly string[], valueCount: number): Source {
    if (valueCount > MAX_VALUES) {
      throw new ShellValueError(`a template may hold at most ${MAX_VALUES} values`, {
        line: 1,
        column: 1,
        offset: 0,
      });
    }
    let text = '';
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (valueCount > 0 && /[\ue000-\uf8ff]/.test(piece)) {
        const at = text.length + piece.search(/[\ue000-\uf8ff]/);
        const src = new Source(text + piece, 0);
        throw new ShellValueError(
          'the template text holds a private-use character (U+E000–U+F8FF); pass it as a value',
          src.position(at),
        );
      }
      // In a template `\${` only stops JavaScript's interpolation: the shell sees `${`.
      text += piece.replaceAll('\\${', '${');
      if (i < valueCount) text += String.fromCharCode(VALUE_BASE + i);
    }
    return new Source(text, valueCount);
  }

  /** The value index the character at `offset` stands for, or -1. */
  valueAt(offset: number): number {
    const c = this.text.charCodeAt(offset) - VALUE_BASE;
    return c >= 0 && c < this.valueCount ? c : -1;
  }

  /** Line and column (1-based) of an offset. */
  position(offset: number): { line: number; column: number; offset: number } {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.#lineStarts[lo]! + 1, offset };
  }
}
