import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import xtermHeadless from '@xterm/headless';
import { InvalidOptionError } from '../../../src/proc/index.js';
import { ScreenClosedError, ScreenModel } from '../../../src/sessions/index.js';
import { waitFor } from '../../helpers/wait.js';

const { Terminal } = xtermHeadless;
type Term = InstanceType<typeof Terminal>;

function term(rows: number, cols: number, scrollback = 20_000): Term {
  return new Terminal({ rows, cols, scrollback, allowProposedApi: true, logLevel: 'off' });
}

function write(t: Term, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => t.write(data, resolve));
}

/** Every row of a buffer as text (untrimmed), plus per-cell style of the rows. */
function dump(t: Term, which: 'normal' | 'alternate', from = 0): string[] {
  const b = which === 'normal' ? t.buffer.normal : t.buffer.alternate;
  const out: string[] = [];
  const cell = b.getNullCell();
  for (let y = from; y < b.length; y++) {
    const line = b.getLine(y);
    if (!line) continue;
    let styles = '';
    for (let x = 0; x < t.cols; x++) {
      line.getCell(x, cell);
      styles += `${cell.getFgColorMode()}:${cell.getFgColor()}/${cell.getBgColorMode()}:${cell.getBgColor()}/${cell.isBold()}${cell.isUnderline()}${cell.isInverse()}${cell.isItalic()},`;
    }
    out.push(`${line.isWrapped ? '+' : ' '}${line.translateToString(false)}|${styles}`);
  }
  return out;
}

/** The state the model reports must match what a terminal that drew the snapshot reports. */
async function assertRestores(
  feed: string | Uint8Array,
  rows = 10,
  cols = 40,
  after = '',
): Promise<{ model: ScreenModel; copy: Term; original: Term }> {
  const model = new ScreenModel({ rows, cols });
  const original = term(rows, cols);
  model.write(Buffer.from(feed));
  await write(original, feed);
  const snap = await model.snapshot();
  const copy = term(rows, cols);
  await write(copy, snap.body);
  // Both then receive the same live output: it must land the same way (scroll region, modes).
  await write(original, after);
  await write(copy, after);
  const oa = original.buffer.active;
  const ca = copy.buffer.active;
  assert.equal(ca.type, oa.type, 'active buffer');
  assert.deepEqual([ca.cursorX, ca.cursorY], [oa.cursorX, oa.cursorY], 'cursor position');
  assert.deepEqual(
    dump(copy, 'normal', copy.buffer.normal.length - original.buffer.normal.length),
    dump(original, 'normal'),
    'normal buffer, scrollback included',
  );
  if (oa.type === 'alternate') {
    assert.deepEqual(dump(copy, 'alternate'), dump(original, 'alternate'), 'alternate screen');
  }
  assert.deepEqual(copy.modes, original.modes, 'modes');
  const core = (t: Term) =>
    (
      t as unknown as {
        _core: {
          coreService: { isCursorHidden: boolean; decPrivateModes: object };
          coreMouseService: { activeEncoding: string };
          _bufferService: { buffer: { scrollTop: number; scrollBottom: number } };
        };
      }
    )._core;
  assert.equal(core(copy).coreService.isCursorHidden, core(original).coreService.isCursorHidden);
  assert.deepEqual(
    core(copy).coreService.decPrivateModes,
    core(original).coreService.decPrivateModes,
  );
  assert.equal(
    core(copy).coreMouseService.activeEncoding,
    core(original).coreMouseService.activeEncoding,
  );
  const region = (t: Term) => {
    const b = core(t)._bufferService.buffer;
    return [b.scrollTop, b.scrollBottom];
  };
  assert.deepEqual(region(copy), region(original), 'scroll region');
  return { model, copy, original };
}

const lines = (n: number, prefix = 'line') =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i}`).join('\r\n');

describe('ScreenModel', () => {
  it('rejects bad sizes and budgets with InvalidOptionError', async () => {
    assert.throws(() => new ScreenModel({ rows: 0, cols: 80 }), InvalidOptionError);
    assert.throws(() => new ScreenModel({ rows: 24, cols: 1.5 }), InvalidOptionError);
    assert.throws(
      () => new ScreenModel({ rows: 24, cols: 80, scrollbackLines: -1 }),
      InvalidOptionError,
    );
    assert.throws(
      () => new ScreenModel({ rows: 24, cols: 80, highWaterMarkBytes: 0 }),
      InvalidOptionError,
    );
    assert.throws(() => new ScreenModel(null as never), InvalidOptionError);
    const m = new ScreenModel({ rows: 24, cols: 80 });
    assert.throws(() => m.resize(0, 80), InvalidOptionError);
    await assert.rejects(m.snapshot({ rows: -1 }), InvalidOptionError);
    await assert.rejects(m.snapshot({ cols: 70000 }), InvalidOptionError);
    await assert.rejects(m.snapshot({ scrollback: 1.5 }), InvalidOptionError);
    m.dispose();
  });

  it('restores the normal buffer, its scrollback, colours and the cursor', async () => {
    const feed = `${lines(30)}\r\n\x1b[1;31mbold red\x1b[0m plain \x1b[4;44munder blue\x1b[0m\r\n\x1b[38;2;10;20;30mtrue colour\x1b[0m and \x1b[7minverse\x1b[27m\x1b[3;7H`;
    const { model, copy } = await assertRestores(feed);
    assert.equal(copy.buffer.normal.baseY >= 21, true, 'the scrollback was replayed');
    model.dispose();
  });

  it('restores colourful scrollback: 16, 256 and true colours, flags, wide and combined characters', async () => {
    const styled = [
      '\x1b[1;3;4mbold italic under\x1b[0m \x1b[2;9mdim strike\x1b[0m \x1b[5;7;53mblink inv over\x1b[0m',
      '\x1b[38;5;208m256 fg\x1b[48;5;22m and bg\x1b[0m \x1b[94;101mbright\x1b[0m',
      '\x1b[38;2;1;2;3;48;2;250;128;0mrgb\x1b[0m 漢字 wide, e\u0301 combined, \x1b[44m   \x1b[0m blue blank',
      `${'w'.repeat(40)}${'rapped '.repeat(8)}`,
      '\x1b[8minvisible\x1b[0m visible',
    ];
    for (const n of [2, 12]) {
      const feed = `${Array.from({ length: n }, (_, i) => styled[i % styled.length]).join('\r\n')}\r\nend`;
      const { model } = await assertRestores(feed, 10, 40);
      model.dispose();
    }
    const few = await assertRestores(`${lines(12)}`, 10, 40);
    few.model.dispose();
  });

  it('restores a full-screen program: alternate screen, hidden cursor, scroll region, keys, paste, mouse', async () => {
    const feed =
      `${lines(5, 'shell')}\r\n$ vim\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l\x1b[?1h\x1b=\x1b[?2004h` +
      `\x1b[?1002h\x1b[?1006h\x1b[6 q\x1b[2;8r${lines(9, '~')}\x1b[1;1H\x1b[1mtitle\x1b[0m\x1b[5;3H`;
    // Live output after the snapshot scrolls inside the region: a stale or missing region would
    // scroll the whole screen instead (the garbled re-attach).
    const live = '\x1b[8;1H\r\nscrolled\r\nagain\x1b[?1049l';
    const { model, copy } = await assertRestores(feed, 10, 40, live);
    assert.equal(copy.buffer.active.type, 'normal', 'leaving the alternate screen restores');
    model.dispose();
  });

  it('serializes again only what changed, and the same as from scratch (kept scrollback lines)', async () => {
    const kept = new ScreenModel({ rows: 6, cols: 20, scrollbackLines: 50 });
    const steps = [
      lines(30),
      `\r\n${'wrapped '.repeat(6)}\r\n\x1b[31mred\x1b[0m`,
      lines(40, 'more'), // the oldest kept lines leave the 50-line budget
      '\x1b[3J', // erase the scrollback
      lines(12, 'after erase'),
      '\x1bc', // full reset
      lines(9, 'after reset'),
      'RESIZE',
      lines(20, 'narrow'),
    ];
    const fed: string[] = [];
    for (const step of steps) {
      if (step === 'RESIZE') kept.resize(6, 13);
      else kept.write(Buffer.from(step));
      fed.push(step);
      const fresh = new ScreenModel({ rows: 6, cols: 20, scrollbackLines: 50 });
      for (const f of fed) {
        if (f === 'RESIZE') fresh.resize(6, 13);
        else fresh.write(Buffer.from(f));
      }
      const [a, b] = [await kept.snapshot(), await fresh.snapshot()];
      assert.equal(
        a.data.toString(),
        b.data.toString(),
        `after ${JSON.stringify(step.slice(0, 20))}`,
      );
      fresh.dispose();
    }
    kept.dispose();
  });

  it('mixes partial and whole snapshots with kept lines, and its parts join to its data', async () => {
    const kept = new ScreenModel({ rows: 6, cols: 20, scrollbackLines: 50 });
    const fresh = () => new ScreenModel({ rows: 6, cols: 20, scrollbackLines: 50 });
    const fed: string[] = [];
    const feed = (s: string) => {
      fed.push(s);
      kept.write(Buffer.from(s));
    };
    const same = async (options: { scrollback?: number }, what: string) => {
      const other = fresh();
      for (const f of fed) other.write(Buffer.from(f));
      const [a, b] = [await kept.snapshot(options), await other.snapshot(options)];
      other.dispose();
      assert.equal(a.data.toString(), b.data.toString(), what);
      assert.equal(a.bytes, a.data.length);
      assert.ok(Buffer.concat(a.parts).equals(a.data), `${what}: parts`);
      assert.ok(a.data.subarray(a.data.length - a.body.length).equals(a.body), `${what}: body`);
    };
    feed(lines(30));
    await same({ scrollback: 5 }, 'a partial snapshot first');
    await same({}, 'then a whole one');
    await same({ scrollback: 7 }, 'a partial one from the kept lines');
    feed(lines(10, 'more'));
    await same({ scrollback: 3 }, 'partial, after more lines');
    await same({}, 'whole, after more lines');
    feed(lines(45, 'past the budget'));
    await same({}, 'whole, after the oldest lines left');
    await same({ scrollback: 0 }, 'no scrollback at all');
    kept.dispose();
  });

  it('keeps the scrollback serialized once the output pauses, the same as from scratch', async () => {
    const kept = new ScreenModel({ rows: 6, cols: 20, scrollbackLines: 50 });
    const fed: string[] = [];
    const paused = async (step: string) => {
      const before = kept.keptScrollbackBytes;
      fed.push(step);
      kept.write(Buffer.from(step));
      // The rows are serialized half a second after the parser went idle.
      await waitFor(() => kept.keptScrollbackBytes !== before, { timeoutMs: 15_000 });
      const fresh = new ScreenModel({ rows: 6, cols: 20, scrollbackLines: 50 });
      for (const f of fed) fresh.write(Buffer.from(f));
      const [a, b] = [await kept.snapshot(), await fresh.snapshot()];
      fresh.dispose();
      assert.equal(
        a.data.toString(),
        b.data.toString(),
        `after ${JSON.stringify(step.slice(0, 20))}`,
      );
    };
    assert.equal(kept.keptScrollbackBytes, 0);
    await paused(lines(30));
    await paused(`\r\n${'wrapped '.repeat(6)}\r\n\x1b[31mred\x1b[0m\r\n${lines(3, 'then')}`);
    // A wrapped line ends the scrollback: its first row is kept whole, without a line break.
    await paused(`\r\n${'W'.repeat(40)}\r\na\r\nb\r\nc\r\nd\r\ne\r\nf`);
    await paused(lines(40, 'more')); // the oldest kept lines leave the 50-line budget
    kept.dispose();
    assert.equal(kept.keptScrollbackBytes, 0, 'disposing lets the kept rows go');
  });

  it('keeps at most a quarter of maxScrollbackBytes serialized; snapshots stay the same', async () => {
    // 50 lines of 20 columns fit 16,800 bytes of buffer: at most 4,200 bytes are kept.
    const options = { rows: 6, cols: 20, scrollbackLines: 50, maxScrollbackBytes: 16_800 };
    const kept = new ScreenModel(options);
    // Every cell in a colour of its own (about 10 bytes a cell once serialized), rows of
    // different lengths (so that rows dropped and rows kept do not weigh the same).
    const colourful = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        Array.from({ length: 10 + (i % 10) }, (_, x) => `\x1b[3${(i + x) % 8}m${x % 10}`).join(''),
      ).join('\x1b[0m\r\n');
    const fed = [colourful(40), `\x1b[0m\r\n${lines(20, 'plain')}`];
    for (const step of fed) {
      const before = kept.keptScrollbackBytes;
      kept.write(Buffer.from(step));
      await waitFor(() => kept.keptScrollbackBytes !== before, { timeoutMs: 15_000 });
      assert.ok(kept.keptScrollbackBytes <= 4_200 + 400, `kept ${kept.keptScrollbackBytes}`);
    }
    const fresh = new ScreenModel(options);
    for (const f of fed) fresh.write(Buffer.from(f));
    const [a, b] = [await kept.snapshot(), await fresh.snapshot()];
    assert.ok(a.scrollbackLines > 30, `${a.scrollbackLines} lines`);
    assert.ok(a.bytes > 4_200 + 400, `${a.bytes} bytes drawn`);
    assert.equal(a.data.toString(), b.data.toString());
    fresh.dispose();
    kept.dispose();
  });

  it('takes the snapshot at one offset: bytes written after the call are not in it', async () => {
    const m = new ScreenModel({ rows: 5, cols: 20 });
    m.write(Buffer.from('before'));
    const pending = m.snapshot();
    m.write(Buffer.from(' after'));
    const snap = await pending;
    assert.equal(snap.offset, 6);
    assert.equal(m.offset, 12);
    assert.match(snap.body.toString(), /before/);
    assert.doesNotMatch(snap.body.toString(), /after/);
    const later = await m.snapshot();
    assert.equal(later.offset, 12);
    assert.match(later.body.toString(), /before after/);
    m.dispose();
  });

  it('never replays a query: device status, attributes, colour and clipboard reads', async () => {
    const m = new ScreenModel({ rows: 5, cols: 40 });
    m.write(Buffer.from('a\x1b[6nb\x1b[cc\x1b[>cd\x1b]11;?\x07e\x1b]10;?\x1b\\f\x1b[5n\x05g'));
    const snap = await m.snapshot();
    const text = snap.data.toString('latin1');
    for (const q of ['\x1b[6n', '\x1b[c', '\x1b[>c', ']11;?', ']10;?', '\x1b[5n', '\x05']) {
      assert.equal(text.includes(q), false, `${JSON.stringify(q)} is not replayed`);
    }
    assert.match((await m.text()).text, /abcdefg/);
    // A terminal drawing the snapshot has nothing to answer.
    const viewer = term(5, 40);
    let answered = '';
    viewer.onData((d) => {
      answered += d;
    });
    await write(viewer, snap.data);
    assert.equal(answered, '');
    m.dispose();
  });

  it('applies a resize after the bytes written before it', async () => {
    const m = new ScreenModel({ rows: 5, cols: 20 });
    // (xterm.js leaves the cursor's own line to the program on a resize: end it first.)
    m.write(Buffer.from(`${'x'.repeat(30)}\r\n`));
    m.resize(6, 10);
    m.write(Buffer.from('yy'));
    const snap = await m.snapshot();
    assert.deepEqual([snap.rows, snap.cols], [6, 10]);
    assert.deepEqual(m.size, { rows: 6, cols: 10 });
    const { text } = await m.text();
    assert.equal(text, `${'x'.repeat(30)}\nyy\n`, 'rewrapped lines read as one');
    m.dispose();
  });

  it('bounds the scrollback by lines and by bytes', async () => {
    const m = new ScreenModel({ rows: 5, cols: 20, scrollbackLines: 100 });
    m.write(Buffer.from(lines(1000)));
    const snap = await m.snapshot();
    assert.equal(snap.scrollbackLines, 100);
    const { text } = await m.text();
    assert.equal(text.split('\n')[0], 'line 895', 'the oldest lines went first');
    m.dispose();
    const small = new ScreenModel({ rows: 5, cols: 100, maxScrollbackBytes: 100_000 });
    assert.equal(small.scrollbackLimit, Math.floor(100_000 / (100 * 12 + 96)));
    small.resize(5, 200);
    assert.ok(
      small.scrollbackLimit < Math.floor(100_000 / (100 * 12 + 96)),
      'wider lines cost more',
    );
    small.dispose();
    const dflt = new ScreenModel({ rows: 60, cols: 200 });
    assert.equal(dflt.scrollbackLimit, 10_000, 'the default keeps 10,000 lines of 200 columns');
    dflt.dispose();
  });

  it('renders plain text: no escape sequences, wrapped lines joined, the alternate screen last', async () => {
    const m = new ScreenModel({ rows: 4, cols: 10 });
    m.write(
      Buffer.from(
        '\x1b[32mgreen\x1b[0m\r\n0123456789abcdef\r\n$ top\x1b[?1049h\x1b[Hfull screen\x1b[?25l',
      ),
    );
    const { text, offset } = await m.text();
    assert.equal(offset, m.offset);
    assert.equal(text, 'green\n0123456789abcdef\n$ top\nfull screen\n');
    assert.equal(text.includes('\x1b'), false);
    m.dispose();
  });

  it('keeps its modes through 3 MiB of output (no ring to wrap)', async () => {
    const m = new ScreenModel({ rows: 24, cols: 80, highWaterMarkBytes: 64 * 1024 * 1024 });
    m.write(Buffer.from('\x1b[?1049h\x1b[?25l\x1b[?1000h'));
    const frame = Buffer.from(`\x1b[H${'frame '.repeat(300)}`);
    let n = 0;
    while (n < 3 * 1024 * 1024) {
      m.write(frame);
      n += frame.length;
    }
    const state = await m.state();
    assert.equal(state.buffer, 'alternate');
    assert.equal(state.cursorHidden, true);
    assert.equal(state.mouseTracking, 'vt200');
    m.dispose();
  });

  it('asks its owner to pause past the high-water mark and emits drain', async () => {
    const m = new ScreenModel({ rows: 5, cols: 20, highWaterMarkBytes: 1000 });
    assert.equal(m.write(Buffer.alloc(500, 0x61)), true);
    const drained = new Promise<void>((resolve) => m.once('drain', resolve));
    assert.equal(m.write(Buffer.alloc(600, 0x62)), false);
    assert.ok(m.pendingBytes > 1000);
    await drained;
    assert.ok(m.pendingBytes <= 250);
    m.dispose();
  });

  it('fits a snapshot to a viewer of another size', async () => {
    const m = new ScreenModel({ rows: 10, cols: 40 });
    m.write(Buffer.from(`${lines(20)}\r\nlast line that is rather long, 38 cols`));
    const snap = await m.snapshot({ rows: 5, cols: 20 });
    assert.deepEqual([snap.rows, snap.cols], [5, 20]);
    const viewer = term(5, 20);
    await write(viewer, snap.body);
    const b = viewer.buffer.active;
    const bottom = [3, 4].map((y) => b.getLine(b.baseY + y)?.translateToString(true));
    assert.deepEqual(bottom, ['last line that is ra', 'ther long, 38 cols']);
    m.dispose();
  });

  it('rejects pending reads with ScreenClosedError on dispose, and reads after it', async () => {
    const m = new ScreenModel({ rows: 5, cols: 20 });
    m.write(Buffer.from('x'));
    const pending = m.snapshot();
    m.dispose();
    await assert.rejects(pending, ScreenClosedError);
    await assert.rejects(m.text(), ScreenClosedError);
    assert.equal(m.write(Buffer.from('ignored')), true);
    m.dispose();
  });

  it('draws over whatever the user terminal showed, pushing it into its scrollback', async () => {
    const m = new ScreenModel({ rows: 4, cols: 20 });
    m.write(Buffer.from('session'));
    const snap = await m.snapshot();
    const user = term(4, 20);
    await write(user, '$ my prompt\r\n\x1b[?1049h\x1b[?1000h\x1b[2;3r');
    await write(user, snap.data);
    const b = user.buffer.normal;
    assert.equal(user.buffer.active.type, 'normal');
    assert.equal(b.getLine(b.baseY)?.translateToString(true), 'session');
    const history = Array.from({ length: b.baseY }, (_, y) =>
      b.getLine(y)?.translateToString(true),
    );
    assert.ok(history.includes('$ my prompt'), 'the user terminal keeps what it showed');
    assert.equal(user.modes.mouseTrackingMode, 'none');
  });
});
