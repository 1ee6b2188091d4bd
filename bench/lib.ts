/**
 * Shared helpers for the benches. Each bench file is a script that runs sluice and its peers on
 * the same work in one process run and prints one Markdown section (a `## title`, a line with the
 * command that produced it, and tables of medians and ratios) to stdout. `bench/run.ts` runs them
 * all and gathers the sections into docs/benchmarks.md.
 */

/** The median of a list of numbers (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` `runs` times (after `warmup` unmeasured runs) and returns each run's result. */
export async function repeat<T>(
  runs: number,
  fn: (i: number) => Promise<T> | T,
  warmup = 0,
): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn(i));
  return out;
}

/** Times one async call in milliseconds. */
export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Formats a number for a table: 3 significant figures, thousands kept whole. */
export function fmt(n: number, unit = ''): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  const text =
    abs >= 1000
      ? Math.round(n).toLocaleString('en-US')
      : abs >= 100
        ? n.toFixed(0)
        : abs >= 10
          ? n.toFixed(1)
          : n.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

/** A Markdown table from a header row and body rows. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Prints a bench section: a title, the command that reproduces it, then the body. */
export function section(title: string, command: string, body: string): void {
  process.stdout.write(`## ${title}\n\nMeasured with \`${command}\`.\n\n${body}\n\n`);
}
