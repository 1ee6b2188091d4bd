import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { QueryFilter, stripQueries } from '../../../src/sessions/index.js';

const QUERIES = [
  '\x1b[6n', // cursor position report
  '\x1b[5n', // device status
  '\x1b[?6n', // extended cursor position
  '\x1b[c', // primary device attributes
  '\x1b[0c',
  '\x1b[>c', // secondary device attributes (vim)
  '\x1b[>0c',
  '\x1b[=c', // tertiary device attributes
  '\x1b[?2004$p', // DECRQM
  '\x1b[14t', // window size in pixels
  '\x1b[18t', // text area size
  '\x1b[>q', // XTVERSION
  '\x1b[?u', // keyboard protocol
  '\x1b[x', // DECREQTPARM
  '\x1bZ', // DECID
  '\x1b]10;?\x07', // foreground colour
  '\x1b]11;?\x1b\\', // background colour, ST-terminated
  '\x1b]4;1;?\x07', // palette entry
  '\x1b]52;c;?\x07', // clipboard read
  '\x1bP$qm\x1b\\', // DECRQSS
  '\x1bP+q544e\x1b\\', // XTGETTCAP
  '\x05', // ENQ
];

const KEPT = [
  '\x1b[31m',
  '\x1b[>4;1m', // modifyOtherKeys: a setting, not a query
  '\x1b[>1u', // keyboard protocol push
  '\x1b[2J',
  '\x1b[?1049h',
  '\x1b[22;0t', // push title
  '\x1b[8;24;80t', // resize request
  '\x1b]0;my title\x07',
  '\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\',
  '\x1b]11;#000000\x07', // setting a colour
  '\x1b=',
  '\x1b(0qqq\x1b(B',
  '\x1b7\x1b8',
  'plain text, ünïcödé ✓\r\n',
];

describe('QueryFilter', () => {
  it('removes every kind of terminal query', () => {
    for (const q of QUERIES) {
      const f = new QueryFilter();
      const out = Buffer.concat([f.push(Buffer.from(`a${q}b`)), f.flush()]).toString('latin1');
      assert.equal(out, 'ab', `${JSON.stringify(q)} is removed`);
      assert.equal(f.removed, 1);
    }
  });

  it('passes everything else through byte for byte', () => {
    for (const s of KEPT) {
      assert.equal(stripQueries(Buffer.from(s)).toString(), s, JSON.stringify(s));
    }
  });

  it('passes a long string sequence (an image, a long hyperlink) through whole', () => {
    const sixel = `\x1bPq${'#0;2;0;0;0~-'.repeat(2000)}\x1b\\after`;
    assert.equal(stripQueries(Buffer.from(sixel)).toString(), sixel);
    const osc = `\x1b]8;;https://x/${'a'.repeat(10_000)}\x07text\x1b[6n`;
    assert.equal(stripQueries(Buffer.from(osc)).toString(), osc.slice(0, -4));
  });

  it('filters the same way however the stream is cut (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom(...QUERIES, ...KEPT),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('\x1b', '\x1b[', '\x1b]', '\x07', '\x1b\\'),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pieces, cuts) => {
          const whole = Buffer.from(pieces.join(''));
          const expected = stripQueries(whole);
          const f = new QueryFilter();
          const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort(
            (a, b) => a - b,
          );
          const out: Buffer[] = [];
          let at = 0;
          for (const p of [...points, whole.length]) {
            out.push(f.push(whole.subarray(at, p)));
            at = p;
          }
          out.push(f.flush());
          assert.deepEqual(Buffer.concat(out), expected);
        },
      ),
    );
  });

  it('leaves no query in any mix of queries and output (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...QUERIES), fc.constantFrom(...KEPT)), {
          maxLength: 20,
        }),
        (pieces) => {
          const out = stripQueries(Buffer.from(pieces.join(''))).toString();
          assert.equal(out, pieces.filter((p) => !QUERIES.includes(p)).join(''));
        },
      ),
    );
  });

  it('holds an unfinished sequence until it completes, and flush returns it', () => {
    const f = new QueryFilter();
    assert.equal(f.push(Buffer.from('x\x1b[')).toString(), 'x');
    assert.equal(f.push(Buffer.from('6')).toString(), '');
    assert.equal(f.push(Buffer.from('nY\x1b[3')).toString(), 'Y');
    assert.equal(f.flush().toString(), '\x1b[3');
  });
});
