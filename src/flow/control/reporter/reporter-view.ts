/**
 * The Reporter's live view for a terminal: one row per stage with throughput, utilization,
 * queue and buffer zone, the drum marked, redrawn in place each interval.
 */

import type { BufferZone } from '../analysis/zones.js';
import type { TextSink } from '../logger.js';

/** A stream the live view can draw on: a TTY with optional width and colour support. */
export interface TtySink extends TextSink {
  /** Whether the stream is a terminal; a live view needs one. */
  isTTY?: boolean;
  /** The terminal's width; lines are cut to it. */
  columns?: number;
  /** Whether the terminal shows colours. */
  hasColors?: () => boolean;
}

/** One stage's row. */
export interface ViewRow {
  stage: string;
  drum: boolean;
  throughput: number;
  utilization: number;
  depth: number;
  capacity: number;
  zone: BufferZone;
  workers: number;
  admitted: number;
  maxWIP: number;
  completed: number;
  failed: number;
  paused: boolean;
}

/** The header's figures. */
export interface ViewHeader {
  rssBytes: number;
  heapUsedBytes: number | undefined;
  loopUtilization: number | undefined;
  memory?: { headroomBytes: number; zone: BufferZone | 'unknown' } | undefined;
  elapsedMs: number;
}

const COLORS: Record<BufferZone, string> = {
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
};
const RESET = '\x1b[0m';

/** The lines of one frame (no trailing newlines). */
export function renderView(header: ViewHeader, rows: readonly ViewRow[], color = false): string[] {
  const width = Math.max(5, ...rows.map((r) => r.stage.length));
  const heap =
    header.heapUsedBytes === undefined ? '' : `  heap ${formatBytes(header.heapUsedBytes)}`;
  const loop = header.loopUtilization === undefined ? '' : `  loop ${pct(header.loopUtilization)}`;
  const mem = header.memory
    ? `  free ${formatBytes(header.memory.headroomBytes)} (${header.memory.zone})`
    : '';
  const lines = [
    `flow  ${formatDuration(header.elapsedMs)}  rss ${formatBytes(header.rssBytes)}${heap}${mem}${loop}`,
    `  ${'stage'.padEnd(width)}  ${'items/s'.padStart(8)}  ${'util'.padStart(4)} ${''.padEnd(10)}  ${'queue'.padStart(9)}  ${'zone'.padEnd(6)}  ${'wkr'.padStart(3)}  ${'wip'.padStart(7)}  ${'done'.padStart(7)}`,
  ];
  for (const r of rows) {
    const mark = r.drum ? '*' : ' ';
    const queue = r.capacity > 0 ? `${r.depth}/${r.capacity}` : String(r.depth);
    const zoneText = r.zone.padEnd(6);
    const zone = color ? `${COLORS[r.zone]}${zoneText}${RESET}` : zoneText;
    const flags = `${r.drum ? ' drum' : ''}${r.paused ? ' PAUSED' : ''}${r.failed > 0 ? ` fail=${r.failed}` : ''}`;
    // Service time is credited when a call ends, so a short interval can read above 100%; the
    // view shows at most 100% (the logged figures keep the raw value).
    const util = Math.min(1, Math.max(0, r.utilization));
    lines.push(
      `${mark} ${r.stage.padEnd(width)}  ${r.throughput.toFixed(1).padStart(8)}  ${pct(util).padStart(4)} ${bar(util)}  ${queue.padStart(9)}  ${zone}  ${String(r.workers).padStart(3)}  ${`${r.admitted}/${r.maxWIP}`.padStart(7)}  ${String(r.completed).padStart(7)}${flags}`,
    );
  }
  return lines;
}

/** A ten-cell bar of a fraction (clamped to [0, 1]). */
export function bar(fraction: number): string {
  const cells = Math.round(Math.min(1, Math.max(0, fraction)) * 10);
  return `${'#'.repeat(cells)}${'.'.repeat(10 - cells)}`;
}

/**
 * Draws frames on a TTY, each over the previous one: the cursor goes back up to the first line
 * of the last frame, every line is cleared before it is written, and anything left below a
 * shorter frame is erased. Lines are cut to the terminal's width so none wraps (a wrapped line
 * would break the count of lines to go back up).
 */
export class LiveView {
  readonly #sink: TtySink;
  #lines = 0;

  constructor(sink: TtySink) {
    this.#sink = sink;
  }

  /** Draws `lines` in place of the previous frame. */
  draw(lines: readonly string[]): void {
    const cols = this.#sink.columns && this.#sink.columns > 0 ? this.#sink.columns : undefined;
    let out = this.#lines > 0 ? `\x1b[${this.#lines}A\r` : '';
    for (const line of lines) out += `\x1b[2K${cols ? truncate(line, cols - 1) : line}\n`;
    out += '\x1b[J';
    this.#sink.write(out);
    this.#lines = lines.length;
  }

  /** Lines the last frame took. */
  get height(): number {
    return this.#lines;
  }
}

/** Cuts a line to `cols` visible characters, leaving ANSI colour codes intact. */
function truncate(line: string, cols: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= cols) continue;
    out += line[i];
    visible++;
  }
  return out;
}

/** 1536 → "1.5KiB"; binary units. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)}B` : `${v.toFixed(1)}${units[u]}`;
}

/** toc's duration style: "5.3s" from a second up, "200ms" from a millisecond, else "40µs". */
export function formatDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms >= 1) return `${Math.round(ms)}ms`;
  return `${Math.round(ms * 1000)}µs`;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
