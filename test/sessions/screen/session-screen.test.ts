import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionRegistry } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';

/** A program that enters the alternate screen, asks for the cursor position, then echoes lines. */
const FULL_SCREEN = [
  'import os, sys',
  'os.write(1, b"\\x1b[?1049h\\x1b[?25l\\x1b[H\\x1b[2Jtitle\\x1b[6n\\r\\n")',
  'for line in sys.stdin:',
  '    os.write(1, b"got " + line.strip().encode() + b"\\r\\n")',
].join('\n');

describe('PTY sessions keep a screen', () => {
  it(
    'attachScreen draws the screen without the query, then continues at the same offset',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['python3', '-c', FULL_SCREEN],
          pty: { rows: 10, cols: 40 },
        });
        assert.ok(s.screen, 'a PTY session has a screen');
        await waitFor(() => s.snapshot().data.includes('title'), { timeoutMs: 15_000 });
        const { attachment, screen } = await s.attachScreen('stdout', { readOnly: true });
        const drawing = screen.toString('latin1');
        const alt = drawing.indexOf('\x1b[?1049h');
        assert.ok(alt >= 0 && alt < drawing.indexOf('title'), 'title on the alternate screen');
        assert.ok(drawing.includes('\x1b[?25l'), 'the hidden cursor is part of the drawing');
        assert.equal(drawing.includes('\x1b[6n'), false, 'the query is not replayed');
        assert.equal(attachment.backlogOffset, s.snapshot().end - attachment.backlog.length);
        await s.writeStdin('one\n');
        const it = attachment[Symbol.asyncIterator]();
        let live = '';
        let next = attachment.backlogOffset + attachment.backlog.length;
        while (!live.includes('got one')) {
          const { value } = await it.next();
          assert.ok(value && value.type === 'output', `got ${JSON.stringify(value)}`);
          assert.equal(value.offset, next, 'no byte lost or repeated after the drawing');
          next += value.data.length;
          live += value.data.toString();
        }
        await attachment.detach();
        // A viewer of another size gets a drawing made for its size.
        const small = await s.attachScreen('stdout', { readOnly: true, rows: 5, cols: 20 });
        assert.ok(small.screen.length > 0);
        await small.attachment.detach();
        const { text } = await s.screen!.text();
        assert.match(text, /title\none\ngot one/); // the terminal echoed the line
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'a flood is read as fast as the screen parses it, and no byte is lost',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'yes | head -c 6000000'],
          pty: { rows: 24, cols: 80 },
        });
        const exit = await s.exited;
        assert.equal(exit.exitCode, 0);
        // 3,000,000 lines of "y\n", each "\n" turned into "\r\n" by the terminal.
        assert.equal(s.snapshot().end, 9_000_000);
        assert.equal(s.screen!.offset, 9_000_000);
        const state = await s.screen!.state();
        assert.equal(state.buffer, 'normal');
        const { text } = await s.screen!.text();
        assert.equal(text.split('\n').filter((l) => l === 'y').length, 10_000 + 23);
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'a registry without screens attaches with the raw backlog',
    withLeakCheck(async () => {
      const reg = new SessionRegistry({ screens: false });
      try {
        const s = await reg.spawn({
          argv: ['sh', '-c', 'printf "raw\\n"'],
          pty: { rows: 5, cols: 20 },
        });
        await s.exited;
        assert.equal(s.screen, undefined);
        const { attachment, screen } = await s.attachScreen();
        assert.equal(screen.length, 0);
        assert.equal(attachment.backlog.toString(), 'raw\r\n');
        await attachment.detach();
        assert.throws(() => new SessionRegistry({ screens: 'yes' as never }), /screens/);
      } finally {
        await reg.shutdown();
      }
    }),
  );
});
