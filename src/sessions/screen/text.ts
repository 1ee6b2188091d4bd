/**
 * Plain-text rendering of a headless terminal: what `sluice logs` prints for a PTY session, safe
 * in a terminal (no escape sequence, so nothing is redrawn and nothing is asked) and useful in a
 * pipe (one line of text per line of the screen, wrapped lines joined).
 */
import type { Terminal } from '@xterm/headless';

type Buffer = Terminal['buffer']['normal'];

/** The lines of `buffer`: wrapped rows joined, trailing blanks trimmed, blank tail dropped. */
function bufferLines(buffer: Buffer): string[] {
  const lines: string[] = [];
  // A wrapped row continues the previous one, whose cells were all used: join them untrimmed.
  let current: string | undefined;
  for (let y = 0; y < buffer.length; y++) {
    const line = buffer.getLine(y);
    if (!line) continue;
    const text = line.translateToString(false);
    if (line.isWrapped && current !== undefined) {
      current += text;
    } else {
      if (current !== undefined) lines.push(current.trimEnd());
      current = text;
    }
  }
  if (current !== undefined) lines.push(current.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The terminal as text: the normal buffer (scrollback, then screen) and, while the alternate
 * screen is shown, that screen after it. Ends with a newline unless empty. Parse everything
 * written first: the caller's job.
 */
export function renderText(term: Terminal): string {
  const lines = bufferLines(term.buffer.normal);
  if (term.buffer.active.type === 'alternate') lines.push(...bufferLines(term.buffer.alternate));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
