/**
 * Memory watchers for command stages (go-pipe v1's MemoryLimit and MemoryObserver): poll the
 * summed RssAnon of the command's process tree; kill the group past a limit; report the peak.
 */
import { readFileSync } from 'node:fs';
import { hasProcfs, InvalidOptionError, treeRss } from '../proc/index.js';
import { MemoryLimitError } from './errors.js';
import type {
  ExitInfo,
  PipeEvent,
  ProcessStage,
  Stage,
  StageContext,
  WrapperStage,
} from './stage.js';
import { processStageOf } from './stage.js';
import type { InputStream, OutputStream } from './streams.js';

/** Options of `memoryObserver`. */
export interface MemoryObserverOptions {
  /** How often the tree is sampled. Default 1000 ms (go-pipe's). */
  intervalMs?: number;
  /** Receives this stage's memory events instead of the pipeline's `onEvent`. */
  onEvent?: (event: PipeEvent) => void;
}

/** Options of `memoryLimit`. */
export type MemoryLimitOptions = MemoryObserverOptions;

/** What a watcher saw. */
export interface MemoryPeak {
  /** Highest summed RssAnon of the process tree seen in a sample, in bytes. */
  maxRssBytes: number;
  /** Highest summed VmHWM (peak resident set) of the tree seen in a sample, in bytes. */
  maxHwmBytes: number;
  samples: number;
  errors: number;
}

/**
 * Wraps a command stage so that its process tree (the command and every descendant, found through
 * /proc) is sampled every `intervalMs`, and the whole group is stopped (SIGTERM, then SIGKILL after
 * the grace) when the summed RssAnon passes `bytes`. The stage then fails with `MemoryLimitError`
 * and a `memory-limit` event is emitted. Linux only: where /proc is missing it watches nothing.
 * Throws `PipeUsageError` when `stage` is not (a wrapper of) a command.
 */
export function memoryLimit(stage: Stage, bytes: number, options: MemoryLimitOptions = {}): Stage {
  if (!(bytes > 0))
    throw new InvalidOptionError('bytes', 'memoryLimit: must be a positive number of bytes');
  return new MemoryWatchStage(stage, bytes, options);
}

/**
 * Wraps a command stage so that its process tree's memory is sampled every `intervalMs`; when it
 * ends, a `memory-peak` event reports the highest RssAnon seen (`maxRssBytes`), the number of
 * samples and of failed samples. Linux only. Throws `PipeUsageError` for a non-command stage.
 */
export function memoryObserver(stage: Stage, options: MemoryObserverOptions = {}): Stage {
  return new MemoryWatchStage(stage, undefined, options);
}

/** Peak resident set (VmHWM) of one process in bytes; undefined when gone or a zombie. */
export function peakRssBytes(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * The stage `memoryLimit` and `memoryObserver` return: the wrapped command's name, preferences and
 * process, plus the sampling. `peak` says what was seen (read it after `wait()`).
 */
export class MemoryWatchStage implements WrapperStage, ProcessStage {
  readonly inner: Stage;
  readonly #limit: number | undefined;
  readonly #options: MemoryObserverOptions;
  #timer: NodeJS.Timeout | undefined;
  #peak: MemoryPeak = { maxRssBytes: 0, maxHwmBytes: 0, samples: 0, errors: 0 };
  #emit: (e: PipeEvent) => void = () => {};
  #exceeded = false;

  constructor(inner: Stage, limit: number | undefined, options: MemoryObserverOptions) {
    if (!inner || !processStageOf(inner)) {
      throw new InvalidOptionError(
        'stage',
        `${limit === undefined ? 'memoryObserver' : 'memoryLimit'}: ${inner?.name ?? 'stage'} is not a command stage`,
      );
    }
    const interval = options.intervalMs ?? 1000;
    if (!(interval > 0)) throw new InvalidOptionError('intervalMs', 'must be a positive number');
    this.inner = inner;
    this.#limit = limit;
    this.#options = options;
  }

  get name(): string {
    return this.inner.name;
  }
  get preferences() {
    return this.inner.preferences;
  }
  get pid(): number | undefined {
    return processStageOf(this.inner)?.pid;
  }
  get exitInfo(): ExitInfo | undefined {
    return processStageOf(this.inner)?.exitInfo;
  }
  /** What was seen so far. */
  get peak(): Readonly<MemoryPeak> {
    return this.#peak;
  }
  kill(reason: unknown): void {
    processStageOf(this.inner)?.kill(reason);
  }

  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void {
    this.inner.start(ctx, stdin, stdout);
    this.#emit = this.#options.onEvent ?? ctx.emit;
    if (!hasProcfs) return;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#options.intervalMs ?? 1000);
  }

  async wait(): Promise<void> {
    try {
      await this.inner.wait();
    } finally {
      this.#stop();
      if (this.#limit === undefined) {
        const p = this.#peak;
        const event: PipeEvent = {
          type: 'memory-peak',
          stage: this.name,
          maxRssBytes: p.maxRssBytes,
          samples: p.samples,
          errors: p.errors,
        };
        try {
          this.#emit(event);
        } catch {}
      }
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sample(): void {
    const proc = processStageOf(this.inner);
    const pid = proc?.pid;
    if (!proc || pid === undefined || proc.exitInfo) return;
    let used: number;
    try {
      const tree = treeRss(pid);
      if (tree.pids.length === 0) return;
      used = tree.bytes;
      let hwm = 0;
      for (const p of tree.pids) hwm += peakRssBytes(p) ?? 0;
      if (hwm > this.#peak.maxHwmBytes) this.#peak.maxHwmBytes = hwm;
    } catch {
      this.#peak.errors++;
      return;
    }
    this.#peak.samples++;
    if (used > this.#peak.maxRssBytes) this.#peak.maxRssBytes = used;
    const limit = this.#limit;
    if (limit !== undefined && used > limit && !this.#exceeded) {
      this.#exceeded = true;
      this.#stop();
      try {
        this.#emit({ type: 'memory-limit', stage: this.name, limit, used, pid });
      } catch {}
      proc.kill(new MemoryLimitError(this.name, limit, used));
    }
  }
}
