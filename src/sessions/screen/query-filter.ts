/**
 * `QueryFilter`: removes terminal queries from a stream of terminal output, so that a terminal
 * that merely shows the output (a read-only viewer, `sluice logs`) never answers them. An answer
 * is input: written by the user's terminal to whoever reads it, it would be typed into the user's
 * shell after `logs` exits, or into the program by a second terminal. Only the writer's terminal
 * sees queries, live, once.
 *
 * What counts as a query (everything a terminal answers by writing to its input):
 * - `ENQ` (answerback) and `ESC Z` (DECID);
 * - CSI: device status reports (`CSI 5 n`, `CSI 6 n`, `CSI ? 6 n` …, but not `CSI > … n`),
 *   device attributes (`CSI c`, `CSI > c`, `CSI = c`), `CSI … $ p` (DECRQM), `CSI x`
 *   (DECREQTPARM), window reports `CSI 11/13/14/15/16/18/19/20/21 t`, `CSI > q` (XTVERSION),
 *   `CSI ? u` (keyboard protocol query), `CSI ? … S` (XTSMGRAPHICS);
 * - OSC whose data has a `?` field: colour queries (`OSC 4;1;?`, `OSC 10;?`, `OSC 11;?` …),
 *   clipboard reads (`OSC 52;c;?`);
 * - DCS `$ q` (DECRQSS) and `+ q` (XTGETTCAP).
 * Everything else passes through byte for byte, including sequences split across chunks.
 */

const ESC = 0x1b;
const BEL = 0x07;
const ENQ = 0x05;
const CAN = 0x18;
const SUB = 0x1a;

/** A string sequence (OSC, DCS …) longer than this is no query: it is passed through. */
const MAX_HELD_STRING = 4096;
/** A CSI longer than this is malformed or exotic, never a query: it is passed through. */
const MAX_HELD_CSI = 256;

type State =
  | 'ground'
  | 'esc'
  | 'csi'
  /** OSC/DCS/SOS/PM/APC being held to decide whether it is a query. */
  | 'string'
  /** ESC seen inside a held string: `\` ends it (ST), anything else aborts it. */
  | 'string-esc'
  /** A long string sequence already passed through: copy until its terminator. */
  | 'passthrough'
  | 'passthrough-esc';

/** Window-report parameters of `CSI Ps t` that make the terminal answer. */
const REPORTING_WINDOW_OPS = new Set([11, 13, 14, 15, 16, 18, 19, 20, 21]);

function isCsiQuery(seq: Buffer): boolean {
  // seq: ESC [ params... intermediates... final
  const final = seq[seq.length - 1]!;
  const body = seq.subarray(2, seq.length - 1).toString('latin1');
  const prefix = /^[<=>?]/.test(body) ? body[0] : '';
  const rest = prefix ? body.slice(1) : body;
  const intermediates = rest.replace(/^[0-9;:]*/, '');
  const params = rest.slice(0, rest.length - intermediates.length);
  const first = Number.parseInt(params.split(';')[0] ?? '', 10);
  switch (String.fromCharCode(final)) {
    case 'n':
      return prefix !== '>' && intermediates === '';
    case 'c':
      return intermediates === '' && (prefix === '' || prefix === '>' || prefix === '=');
    case 'p':
      return intermediates === '$';
    case 'x':
      return prefix === '' && intermediates === '';
    case 't':
      return prefix === '' && intermediates === '' && REPORTING_WINDOW_OPS.has(first);
    case 'q':
      return prefix === '>' && intermediates === '';
    case 'u':
      return prefix === '?' && intermediates === '';
    case 'S':
      return prefix === '?' && intermediates === '';
    default:
      return false;
  }
}

/** `seq` is a whole string sequence: ESC + introducer, data, and its terminator. */
function isStringQuery(seq: Buffer): boolean {
  const introducer = seq[1];
  // Data between the introducer and the terminator (BEL, or ESC \).
  const end = seq[seq.length - 1] === BEL ? seq.length - 1 : seq.length - 2;
  const data = seq.subarray(2, Math.max(2, end)).toString('latin1');
  if (introducer === 0x5d /* ] OSC */) {
    const fields = data.split(';');
    return fields.slice(1).some((f) => f === '?');
  }
  if (introducer === 0x50 /* P DCS */) {
    return data.startsWith('$q') || data.startsWith('+q');
  }
  return false;
}

/**
 * A streaming query filter (see the module comment). Stateful: a sequence cut between two
 * chunks is held until it completes (at most a few KiB), so feed one stream's chunks in order to
 * one filter. `push` returns what may be shown now; `flush` returns what is still held (an
 * unfinished sequence, shown as it is) at the end of the stream.
 *
 * @example
 * ```ts
 * const filter = new QueryFilter();
 * process.stdout.write(filter.push(chunk)); // never a `\e[6n`
 * ```
 */
export class QueryFilter {
  #state: State = 'ground';
  /** The sequence being held, while it may still turn out to be a query. */
  #held: number[] = [];
  /** How many queries were removed so far. */
  #removed = 0;

  /** How many queries this filter removed. */
  get removed(): number {
    return this.#removed;
  }

  /** Filters one chunk; returns the bytes to show (may be empty, never the input itself). */
  push(chunk: Uint8Array): Buffer {
    const parts: Uint8Array[] = [];
    let out: number[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'ground') {
        // Fast path: copy the run up to the next ESC or ENQ as one slice.
        let j = i;
        while (j < chunk.length && chunk[j] !== ESC && chunk[j] !== ENQ) j++;
        if (j > i) {
          if (out.length > 0) {
            parts.push(Buffer.from(out));
            out = [];
          }
          parts.push(chunk.subarray(i, j));
          i = j;
          continue;
        }
      }
      this.#step(chunk[i]!, out);
      i++;
    }
    if (out.length > 0) parts.push(Buffer.from(out));
    return Buffer.concat(parts);
  }

  /** Ends the stream: returns any held partial sequence unchanged and resets the filter. */
  flush(): Buffer {
    const rest = Buffer.from(this.#held);
    this.#held = [];
    this.#state = 'ground';
    return rest;
  }

  #release(out: number[]): void {
    for (const b of this.#held) out.push(b);
    this.#held = [];
  }

  #drop(): void {
    this.#held = [];
    this.#removed++;
  }

  #step(b: number, out: number[]): void {
    switch (this.#state) {
      case 'ground':
        if (b === ESC) {
          this.#held.push(b);
          this.#state = 'esc';
        } else if (b === ENQ) {
          this.#removed++;
        } else {
          out.push(b);
        }
        return;
      case 'esc':
        this.#afterEsc(b, out);
        return;
      case 'csi':
        this.#inCsi(b, out);
        return;
      case 'string':
        this.#inString(b, out);
        return;
      case 'string-esc':
        if (b === 0x5c /* \ */) {
          this.#held.push(b);
          this.#endString(out);
        } else {
          // ESC not followed by `\` aborts the string; the ESC starts a new sequence.
          this.#held.pop();
          this.#release(out);
          this.#held.push(ESC);
          this.#state = 'esc';
          this.#step(b, out);
        }
        return;
      case 'passthrough':
        if (b === ESC) {
          this.#state = 'passthrough-esc';
          return;
        }
        out.push(b);
        if (b === BEL || b === CAN || b === SUB) this.#state = 'ground';
        return;
      case 'passthrough-esc':
        if (b === 0x5c) {
          out.push(ESC, b);
          this.#state = 'ground';
        } else {
          // ESC not followed by `\` ends the string and starts a new sequence.
          this.#held = [ESC];
          this.#state = 'esc';
          this.#step(b, out);
        }
        return;
    }
  }

  /** After ESC: which kind of sequence this is. */
  #afterEsc(b: number, out: number[]): void {
    this.#held.push(b);
    if (b === 0x5b /* [ */) {
      this.#state = 'csi';
    } else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) {
      // OSC, DCS, SOS, PM, APC
      this.#state = 'string';
    } else if (b === 0x5a /* Z: DECID */) {
      this.#drop();
      this.#state = 'ground';
    } else if (b === ESC) {
      // ESC ESC: the first one stands alone
      this.#held.pop();
      this.#release(out);
      this.#held.push(b);
    } else {
      // Any other escape (charset, keypad, save cursor …) is no query.
      this.#release(out);
      this.#state = 'ground';
    }
  }

  /** Inside a CSI: held until its final byte decides query or not. */
  #inCsi(b: number, out: number[]): void {
    if (b === CAN || b === SUB) {
      this.#held.push(b);
      this.#release(out);
      this.#state = 'ground';
      return;
    }
    if (b === ESC) {
      // An unfinished CSI is abandoned by a new escape.
      this.#release(out);
      this.#held.push(b);
      this.#state = 'esc';
      return;
    }
    this.#held.push(b);
    if (b >= 0x40 && b <= 0x7e) {
      if (isCsiQuery(Buffer.from(this.#held))) this.#drop();
      else this.#release(out);
      this.#state = 'ground';
    } else if (this.#held.length > MAX_HELD_CSI) {
      this.#release(out);
      this.#state = 'ground';
    }
  }

  /** Inside an OSC/DCS/SOS/PM/APC string: held up to MAX_HELD_STRING. */
  #inString(b: number, out: number[]): void {
    this.#held.push(b);
    if (b === BEL) {
      this.#endString(out);
    } else if (b === ESC) {
      this.#state = 'string-esc';
    } else if (b === CAN || b === SUB) {
      this.#release(out);
      this.#state = 'ground';
    } else if (this.#held.length > MAX_HELD_STRING) {
      this.#release(out);
      this.#state = 'passthrough';
    }
  }

  #endString(out: number[]): void {
    if (isStringQuery(Buffer.from(this.#held))) this.#drop();
    else this.#release(out);
    this.#state = 'ground';
  }
}

/** Removes the queries from one whole piece of terminal output (see `QueryFilter`). */
export function stripQueries(data: Uint8Array): Buffer {
  const f = new QueryFilter();
  return Buffer.concat([f.push(data), f.flush()]);
}
