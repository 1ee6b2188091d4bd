/**
 * Terminal colours for the CLI: on only when the stream is a TTY, never when `NO_COLOR` is set
 * (any value, per no-color.org), and forced on by `FORCE_COLOR` (not `0`) for tools that capture.
 */

/** Whether colours should be written to `stream`. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0') return true;
  return stream.isTTY === true;
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

/** A style name understood by `paint`. */
export type Style = keyof typeof codes;

/** Wraps `text` in the ANSI codes of `style` when `enabled`; returns it unchanged otherwise. */
export function paint(text: string, style: Style, enabled: boolean): string {
  if (!enabled) return text;
  const [on, off] = codes[style];
  return `\x1b[${on}m${text}\x1b[${off}m`;
}
