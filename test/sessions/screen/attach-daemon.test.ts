import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScreenModel } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { startDaemon } from '../daemon-harness.js';

/** 5,000 coloured lines of about 190 columns (a drawing of ~950 KiB), a marker, then a wait. */
const PROGRAM = [
  'sh',
  '-c',
  `awk 'BEGIN { for (i = 0; i < 5000; i++) printf "\\033[3%dm%6d\\033[0m %s \\342\\224\\200 %d\\n", i % 8, i, "${'lorem ipsum dolor sit amet '.repeat(6).trimEnd()}", i * 7 }'; echo printed-all; exec sleep 60`,
];

/** The text a drawing shows once drawn into a fresh terminal of `rows`×`cols`. */
async function drawnText(drawing: Buffer, rows: number, cols: number): Promise<string> {
  const term = new ScreenModel({ rows, cols });
  try {
    term.write(drawing);
    const { text } = await term.text();
    // The drawing first pushes what the terminal showed (here: nothing) into its scrollback.
    return text.replace(/^\n+/, '');
  } finally {
    term.dispose();
  }
}

describe('a screen drawing through the daemon', () => {
  it(
    'arrives whole, in many pieces, on a first attach and on a re-attach (kept rows)',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: PROGRAM, pty: { rows: 30, cols: 200 } });
        let shown = '';
        await waitFor(
          async () => {
            shown = (await c.snapshot(s.id, { text: true })).data.toString();
            return shown.includes('printed-all');
          },
          { timeoutMs: 60_000, message: 'the program printed its lines' },
        );
        assert.ok(/^ {5}0 lorem/m.test(shown), 'the first line is in the scrollback');
        assert.ok(/^ {2}4999 lorem .* ─ 34993$/m.test(shown), 'the last line was printed');
        const drawings: Buffer[] = [];
        for (let round = 0; round < 2; round++) {
          const a = await c.attach(s.id, { size: { rows: 30, cols: 200 } });
          try {
            assert.ok(a.screen.length > 3 * 256 * 1024, `a large drawing (${a.screen.length})`);
            assert.equal(a.backlog.length, 0, 'nothing was written after the drawing');
            drawings.push(a.screen);
          } finally {
            await a.detach();
          }
        }
        assert.ok(drawings[0]!.equals(drawings[1]!), 'a re-attach draws the same bytes');
        const drawn = await drawnText(drawings[0]!, 30, 200);
        const trim = (t: string) => t.replace(/\n+$/, '');
        assert.ok(trim(drawn) === trim(shown), 'the drawing shows what the session shows');
        await c.remove(s.id, { force: true });
      } finally {
        await d.stop();
      }
    }),
  );
});
