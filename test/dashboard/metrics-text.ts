/**
 * Checks Prometheus text exposition: with `promtool check metrics` when it is installed (Debian's
 * prometheus package; `SLUICE_PROMTOOL` may name it), and always with a strict parser of the
 * format here (names, labels, values, HELP/TYPE before samples, one family per name, counters
 * ending in `_total`, summaries with quantile/_sum/_count).
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** The promtool binary, or undefined when none is installed. */
export function promtool(): string | undefined {
  const named = process.env.SLUICE_PROMTOOL;
  if (named) return named;
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Runs `promtool check metrics` on `text`; returns its complaints (empty when clean). */
export function promtoolCheck(tool: string, text: string): string {
  try {
    execFileSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
  }
}

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/y;

/** Parses the text format strictly; throws naming the first bad line. */
export function parseMetrics(text: string): { types: Map<string, string>; series: Series[] } {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const series: Series[] = [];
  const lines = text.split('\n');
  let family = '';
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name: ${where}`);
      if (kind === 'TYPE') {
        if (types.has(name)) throw new Error(`second TYPE for ${name}: ${where}`);
        if (!['counter', 'gauge', 'summary', 'histogram', 'untyped'].includes(rest)) {
          throw new Error(`bad type: ${where}`);
        }
        types.set(name, rest);
        family = name;
      } else helped.add(name);
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample: ${where}`);
    const name = m[1]!;
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    let at = 0;
    while (at < body.length) {
      LABEL.lastIndex = at;
      const l = LABEL.exec(body);
      if (!l) throw new Error(`bad labels: ${where}`);
      if (l[1]! in labels) throw new Error(`repeated label: ${where}`);
      labels[l[1]!] = l[2]!;
      at = LABEL.lastIndex;
      if (body[at] === ',') at++;
      else if (at !== body.length) throw new Error(`bad label separator: ${where}`);
    }
    const value = Number(m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') throw new Error(`bad value: ${where}`);
    const base = types.get(name) !== undefined ? name : name.replace(/_(sum|count|bucket)$/, '');
    if (base !== family) throw new Error(`sample outside its family ${family}: ${where}`);
    if (!helped.has(base)) throw new Error(`no HELP for ${base}: ${where}`);
    const type = types.get(base);
    if (type === 'counter' && !name.endsWith('_total'))
      throw new Error(`counter without _total: ${where}`);
    if (type === 'summary' && name === base && !('quantile' in labels)) {
      throw new Error(`summary sample without quantile: ${where}`);
    }
    series.push({ name, labels, value });
  });
  return { types, series };
}
