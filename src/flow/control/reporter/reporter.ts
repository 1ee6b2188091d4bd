/**
 * Reporter: periodic lines about the process and each stage to a pino-compatible logger, and in a
 * terminal a live view redrawn in place (toc's Reporter, with the live view added).
 */
import { performance } from 'node:perf_hooks';
import { InvalidOptionError } from '../../../proc/index.js';
import { FlowStateError } from '../../errors.js';
import { readSource, type StageSource } from '../../stage-like.js';
import { type Stats, zeroStats } from '../../stats.js';
import { assertPositive } from '../../validate.js';
import { delta, type IntervalStats } from '../analysis/interval.js';
import { type MemoryFeverZone, memoryFever, readMemoryInfo } from '../analysis/memory.js';
import { bufferZone } from '../analysis/zones.js';
import { type FlowLogger, lineLogger, logAt } from '../logger.js';
import { type ClockOptions, nowOf, type Ticker, timerTicker } from '../ticker.js';
import {
  formatBytes,
  formatDuration,
  LiveView,
  renderView,
  type TtySink,
  type ViewRow,
} from './reporter-view.js';

/** Process figures for one report. */
/** What the Reporter reads about the process each report. */
export interface ProcessSample {
  /** Resident set size. */
  rssBytes: number;
  /** V8's used heap. */
  heapUsedBytes?: number;
  /** Event-loop utilization over the interval, 0..1 (see docs/flow.md). */
  loopUtilization?: number;
  /** Memory headroom and its fever zone (see `readMemoryInfo`, `memoryFever`). */
  memory?: {
    /** Bytes the process may still use. */
    headroomBytes: number;
    /** The limit the headroom is measured against. */
    limitBytes: number;
    /** `memoryFever` of the two. */
    zone: MemoryFeverZone;
  };
}

/** How a `Reporter` reports. */
export interface ReporterOptions extends ClockOptions {
  /** Milliseconds between reports (> 0). */
  intervalMs: number;
  /**
   * Where the lines go.
   * @default a logger writing one line per report to stderr, unless the live view is drawn there
   */
  logger?: FlowLogger;
  /**
   * The live view: a TTY stream to draw on, `true` for process.stderr, `false` for none. A
   * stream that is not a TTY gets no live view (no escape codes in files or pipes).
   * @default process.stderr when it is a TTY and no logger was given
   */
  live?: TtySink | boolean;
  /**
   * Names the drum to mark (e.g. `() => auto.stats().drum`).
   * @default no drum marked
   */
  drum?: () => string | undefined;
  /**
   * Where the ticks come from (`ManualTicker` steps them by hand).
   * @default a real, unref'd interval timer
   */
  ticker?: Ticker;
  /**
   * Reads the process figures each report.
   * @default process.memoryUsage(), performance.eventLoopUtilization() and readMemoryInfo()
   */
  process?: () => ProcessSample;
}

/** One stage in one report. */
export interface StageReport {
  /** The stage's name. */
  stage: string;
  /** `Stats.submitted`, cumulative. */
  submitted: number;
  /** `Stats.completed`, cumulative. */
  completed: number;
  /** `Stats.failed`, cumulative. */
  failed: number;
  /** `Stats.serviceTimeMs`, cumulative. */
  serviceTimeMs: number;
  /** `Stats.idleTimeMs`, cumulative. */
  idleTimeMs: number;
  /** Items in the input queue now. */
  depth: number;
  /** Whether admission is paused. */
  paused: boolean;
  /** Completions per second over the interval. */
  throughput: number;
  /** Slot occupancy over the interval (see docs/flow.md). */
  utilization: number;
}

/** What one report logged. */
export interface Report {
  /** Milliseconds since the first report. */
  elapsedMs: number;
  /** Resident set size. */
  rssBytes: number;
  /** V8's used heap, when known. */
  heapUsedBytes: number | undefined;
  /** Event-loop utilization over the interval, 0..1, when known. */
  loopUtilization: number | undefined;
  /** Memory headroom and its zone, when known. */
  memory: ProcessSample['memory'];
  /** The drum, from the `drum` option. */
  drum: string | undefined;
  /** One entry per stage, in the order they were added. */
  stages: StageReport[];
  /** The text line logged. */
  line: string;
}

interface Entry {
  name: string;
  read: () => Stats;
  prev: Stats | undefined;
}

/**
 * Logs a report every `intervalMs`: one line such as
 *
 *     [flow] mem: rss=61.2MiB heap=9.8MiB free=1.2GiB(green) loop=34% | parse: sub=200 comp=200 svc=412ms idle=1.5s | transform: sub=200 comp=184 svc=3.7s idle=2ms depth=3 PAUSED
 *
 * (`free=` is the memory headroom with its fever zone; `fail=` only when something failed, `depth=` only when something is queued, `PAUSED` only when
 * admission is paused) with the same figures as the structured object. In a TTY it draws the
 * live view instead (or as well, when a logger is given too).
 *
 * Stats accessors must be fast and must not block; one that throws is reported as an error
 * line for that stage and the loop goes on. Stages are added before `run`.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const done = new Reporter({ intervalMs: 1000 }).addStage('parse', parse).run(ac.signal);
 * // … one line per second to stderr …
 * ac.abort();
 * await done;
 * ```
 */
export class Reporter {
  readonly #intervalMs: number;
  readonly #logger: FlowLogger | undefined;
  readonly #view: LiveView | undefined;
  readonly #color: boolean;
  readonly #drum: (() => string | undefined) | undefined;
  readonly #ticker: Ticker;
  readonly #now: () => number;
  readonly #process: () => ProcessSample;
  readonly #entries: Entry[] = [];
  #started = false;
  #startedAt: number | undefined;
  #lastAt: number | undefined;

  /** Throws an `InvalidOptionError` for a bad interval or a live target that is not writable. */
  constructor(options: ReporterOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'Reporter needs an options object');
    }
    this.#intervalMs = assertPositive('intervalMs', options.intervalMs);
    let live: TtySink | undefined;
    if (options.live === true) live = process.stderr;
    else if (options.live && typeof options.live === 'object') {
      if (typeof options.live.write !== 'function') {
        throw new InvalidOptionError('live', 'must be a writable stream, true or false');
      }
      live = options.live;
    } else if (options.live === undefined && !options.logger && process.stderr.isTTY) {
      live = process.stderr;
    }
    this.#view = live?.isTTY ? new LiveView(live) : undefined;
    this.#color = Boolean(this.#view && live?.hasColors?.());
    this.#logger = options.logger ?? (this.#view ? undefined : lineLogger());
    this.#drum = options.drum;
    this.#ticker = options.ticker ?? timerTicker;
    this.#now = nowOf(options);
    this.#process = options.process ?? defaultProcessSample();
  }

  /** Whether reports are drawn as a live view. */
  get live(): boolean {
    return this.#view !== undefined;
  }

  /**
   * Adds a stage by name with its stats accessor, a stage (anything with `stats()`, such as a
   * `Stage` or any `StageLike`) or a batcher. Throws a
   * `FlowStateError` after `run`, an `InvalidOptionError` for an empty or duplicate name or a missing
   * accessor.
   */
  addStage(name: string, stats: StageSource): this {
    if (this.#started) throw new FlowStateError('Reporter.addStage() after run()');
    if (typeof name !== 'string' || name === '') {
      throw new InvalidOptionError('name', 'Reporter.addStage needs a non-empty name');
    }
    if (this.#entries.some((e) => e.name === name)) {
      throw new InvalidOptionError('name', `Reporter: stage "${name}" added twice`);
    }
    const read = readSource(stats)?.stats;
    if (read === undefined)
      throw new InvalidOptionError('stats', `Reporter: stage "${name}" needs a stats accessor`);
    this.#entries.push({ name, read, prev: undefined });
    return this;
  }

  /**
   * Reports once per tick until `signal` aborts, then once more (the final figures), and
   * resolves. Throws a `FlowStateError` if called twice.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new FlowStateError('Reporter.run() called twice');
    this.#started = true;
    this.#baseline();
    if (signal.aborted) return;
    for await (const _ of this.#ticker.ticks(this.#intervalMs, signal)) {
      this.report();
      if (signal.aborted) break;
    }
    this.report();
  }

  /** Takes and logs (or draws) one report now. `run` calls it per tick. */
  report(): Report {
    if (this.#startedAt === undefined) this.#baseline();
    const at = this.#now();
    const elapsed = at - (this.#lastAt ?? at);
    this.#lastAt = at;
    const proc = this.#process();
    const drum = safe(() => this.#drum?.());
    const stages: StageReport[] = [];
    const rows: ViewRow[] = [];
    const parts: string[] = [];
    for (const e of this.#entries) {
      let s: Stats;
      try {
        s = e.read();
      } catch (err) {
        parts.push(`${e.name}: stats error ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const iv = delta(e.prev ?? s, s, e.prev ? elapsed : 0);
      e.prev = s;
      stages.push(stageReport(e.name, s, iv));
      parts.push(stageText(e.name, s));
      rows.push(viewRow(e.name, e.name === drum, s, iv));
    }
    const line = [processText(proc), ...parts].join(' | ');
    const elapsedMs = at - this.#startedAt!;
    const report: Report = {
      elapsedMs,
      rssBytes: proc.rssBytes,
      heapUsedBytes: proc.heapUsedBytes,
      loopUtilization: proc.loopUtilization,
      memory: proc.memory,
      drum,
      stages,
      line,
    };
    if (this.#logger) {
      const { line: _line, ...obj } = report;
      logAt(this.#logger, 'info', obj, line);
    }
    this.#view?.draw(
      renderView(
        {
          rssBytes: proc.rssBytes,
          heapUsedBytes: proc.heapUsedBytes,
          loopUtilization: proc.loopUtilization,
          memory: proc.memory,
          elapsedMs,
        },
        rows,
        this.#color,
      ),
    );
    return report;
  }

  #baseline(): void {
    const at = this.#now();
    this.#startedAt = at;
    this.#lastAt = at;
    for (const e of this.#entries) {
      try {
        e.prev = e.read();
      } catch {
        e.prev = zeroStats();
      }
    }
  }
}

function stageReport(stage: string, s: Stats, iv: IntervalStats): StageReport {
  return {
    stage,
    submitted: s.submitted,
    completed: s.completed,
    failed: s.failed,
    serviceTimeMs: s.serviceTimeMs,
    idleTimeMs: s.idleTimeMs,
    depth: s.bufferedDepth,
    paused: s.paused,
    throughput: iv.throughput,
    utilization: iv.approxUtilization,
  };
}

function viewRow(stage: string, drum: boolean, s: Stats, iv: IntervalStats): ViewRow {
  return {
    stage,
    drum,
    throughput: iv.throughput,
    utilization: iv.approxUtilization,
    depth: s.bufferedDepth,
    capacity: s.queueCapacity,
    zone: bufferZone(iv.currBufferPenetration),
    workers: s.activeWorkers,
    admitted: s.admitted,
    maxWIP: s.maxWIP,
    completed: s.completed,
    failed: s.failed,
    paused: s.paused,
  };
}

/** The process part of a report line: rss, heap, memory headroom and event-loop use. */
function processText(proc: ProcessSample): string {
  const heap = proc.heapUsedBytes === undefined ? '' : ` heap=${formatBytes(proc.heapUsedBytes)}`;
  const loop =
    proc.loopUtilization === undefined ? '' : ` loop=${Math.round(proc.loopUtilization * 100)}%`;
  const mem = proc.memory
    ? ` free=${formatBytes(proc.memory.headroomBytes)}(${proc.memory.zone})`
    : '';
  return `[flow] mem: rss=${formatBytes(proc.rssBytes)}${heap}${mem}${loop}`;
}

function stageText(name: string, s: Stats): string {
  let t = `${name}: sub=${s.submitted} comp=${s.completed}`;
  if (s.failed > 0) t += ` fail=${s.failed}`;
  t += ` svc=${formatDuration(s.serviceTimeMs)} idle=${formatDuration(s.idleTimeMs)}`;
  if (s.bufferedDepth > 0) t += ` depth=${s.bufferedDepth}`;
  if (s.paused) t += ' PAUSED';
  return t;
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function defaultProcessSample(): () => ProcessSample {
  let last = performance.eventLoopUtilization();
  return () => {
    const m = process.memoryUsage();
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const info = readMemoryInfo();
    const memory = info
      ? {
          headroomBytes: info.headroomBytes,
          limitBytes: info.limitBytes,
          zone: memoryFever(info.headroomBytes, info.limitBytes),
        }
      : undefined;
    return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, loopUtilization: elu, memory };
  };
}
