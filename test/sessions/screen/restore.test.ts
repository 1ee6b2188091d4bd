import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import xtermHeadless from '@xterm/headless';
import {
  AlternateScreenTracker,
  restoreTerminal,
  ScreenModel,
  TERMINAL_RESTORE,
} from '../../../src/sessions/index.js';

describe('restoreTerminal', () => {
  it("gives back a shell's terminal whatever modes the program left", async () => {
    // The model is a terminal too: drive it into a full-screen program's modes, then restore.
    const m = new ScreenModel({ rows: 6, cols: 30 });
    m.write(Buffer.from('$ prompt'));
    m.write(
      Buffer.from(
        '\x1b[?1049h\x1b[?25l\x1b[?1000h\x1b[?1006h\x1b[?1004h\x1b[?2004h\x1b[?1h\x1b=\x1b[2;4r\x1b[4h\x1b[?7l\x1b[5 q\x1b[1;31m',
      ),
    );
    const before = await m.state();
    assert.equal(before.buffer, 'alternate');
    const tracker = new AlternateScreenTracker();
    tracker.push(Buffer.from('\x1b[?10'));
    tracker.push(Buffer.from('49h')); // cut between two chunks
    assert.equal(tracker.active, true);
    m.write(Buffer.from(restoreTerminal({ alternateScreen: tracker.active })));
    const s = await m.state();
    assert.equal(s.buffer, 'normal');
    assert.equal(s.cursorHidden, false);
    assert.equal(s.mouseTracking, 'none');
    assert.equal(s.sendFocus, false);
    assert.equal(s.bracketedPaste, false);
    assert.equal(s.applicationCursorKeys, false);
    assert.equal(s.applicationKeypad, false);
    assert.equal(s.insertMode, false);
    assert.equal(s.wraparound, true);
    assert.deepEqual(s.scrollRegion, { top: 0, bottom: 5 });
    // A message printed next starts on a clean line below the prompt, in default colours.
    m.write(Buffer.from('[detached]'));
    const { text } = await m.text();
    assert.equal(text, '$ prompt\n[detached]\n');
    m.dispose();
  });

  it('on the normal screen, keeps the cursor where the output left it', async () => {
    const m = new ScreenModel({ rows: 6, cols: 30 });
    m.write(Buffer.from('one\r\ntwo\r\n\x1b[2;5r\x1b[5;1H$ half'));
    const tracker = new AlternateScreenTracker();
    tracker.push(Buffer.from('\x1b[?1049hx\x1b[?1049l'));
    assert.equal(tracker.active, false);
    m.write(Buffer.from(`${restoreTerminal({ alternateScreen: tracker.active })}[detached]`));
    const { text } = await m.text();
    assert.equal(text, 'one\ntwo\n\n\n$ half\n[detached]\n');
    assert.deepEqual((await m.state()).scrollRegion, { top: 0, bottom: 5 });
    m.dispose();
  });

  it('asks the terminal nothing', () => {
    const { Terminal } = xtermHeadless;
    const t = new Terminal({ rows: 5, cols: 20, allowProposedApi: true, logLevel: 'off' });
    let answered = '';
    t.onData((d) => {
      answered += d;
    });
    return new Promise<void>((resolve) =>
      t.write(TERMINAL_RESTORE + restoreTerminal({ atLineStart: true }), () => {
        assert.equal(answered, '');
        t.dispose();
        resolve();
      }),
    );
  });
});
