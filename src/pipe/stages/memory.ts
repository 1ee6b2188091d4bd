/**
 * Memory watchers for command stages (go-pipe v1's MemoryLimit and MemoryObserver): poll the
 * summed RssAnon of the command's process tree; kill the group past a limit; report the peak.
 */
import { hasProcfs, InvalidOptionError, treeRss } from '../../proc/index.js';
import { MemoryLimitError } from '../errors.js';
import type { InputStream, OutputStream } from '../pipeline/streams.js';
import type {
  ExitInfo,
  PipeEvent,
  ProcessStage,
  Stage,
  StageContext,
  WrapperStage,
} from '../stage.js';
import { processStageOf } from '../stage.js';

/** Options of `memoryObserver`. */
export interface MemoryObserverOptions {
  /**
   * How often the tree is sampled, in ms.
   * @default 1000 (go-pipe's)
   */
  intervalMs?: number;
  /**
   * Receives this stage's memory events instead of the pipeline's `onEvent`.
   * @default the pipeline's `onEvent`
   */
  onEvent?: (event: PipeEvent) => void;
  /**
   * Called once when the stage ends (succeeded or failed) with what was seen, after the
   * `memory-peak` event. Exceptions are ignored.
   */
  onPeak?: (peak: Readonly<MemoryPeak>, stage: string) => void;
}

/** Options of `memoryLimit`. */
export interface MemoryLimitOptions extends MemoryObserverOptions {
  /**
   * Also report the peak when the stage ends, as `memoryObserver` does (a `memory-peak` event),
   * go-pipe's MemoryLimitWithObserver. When the limit killed the stage, the peak includes the
   * sample that passed the limit. `onPeak` implies it.
   * @default false
   */
  observe?: boolean;
}

/** What a watcher saw. */
export interface MemoryPeak {
  /** Highest summed RssAnon of the process tree seen in a sample, in bytes. */
  maxRssBytes: number;
  /** Highest summed VmHWM (the kernel's own peak resident set) of the tree seen, in bytes. */
  maxHwmBytes: number;
  /** Samples taken. */
  samples: number;
  /** Samples that failed (a process vanished mid-read, /proc unreadable). */
  errors: number;
  /** Whether `memoryLimit` stopped the stage. */
  limitExceeded: boolean;
}

/**
 * Wraps a command stage so that its process tree (the command and every descendant, found through
 * /proc) is sampled every `intervalMs`, and the whole group is stopped (SIGTERM, then SIGKILL after
 * the grace) when the summed RssAnon passes `bytes`. The stage then fails with `MemoryLimitError`
 * and a `memory-limit` event is emitted. With `observe` (or `onPeak`) it also reports the peak
 * when the stage ends, the sample that passed the limit included: the true peak at the kill,
 * which an observer wrapped around it with its own samples could miss. Linux only: where /proc is
 * missing it watches nothing. Throws `InvalidOptionError` for a limit that is not a positive
 * number or a stage that is not (a wrapper of) a command.
 *
 * @example
 * ```ts
 * const sort = memoryLimit(command('sort', [file]), 512 * 1024 * 1024, {
 *   onPeak: (peak) => console.log(`sort peaked at ${peak.maxRssBytes} bytes`),
 * });
 * await pipeline({ stdout: process.stdout }).add(sort).run();
 * ```
 */
export function memoryLimit(stage: Stage, bytes: number, options: MemoryLimitOptions = {}): Stage {
  if (typeof bytes !== 'number' || !(bytes > 0)) {
    throw new InvalidOptionError('bytes', 'memoryLimit: must be a positive number of bytes');
  }
  return new MemoryWatchStage(stage, bytes, options);
}

/**
 * Wraps a command stage so that its process tree's memory is sampled every `intervalMs`; when it
 * ends, a `memory-peak` event reports the highest RssAnon seen (`maxRssBytes`), the number of
 * samples and of failed samples, and `onPeak` is called. Wrapped around a `memoryLimit` stage it
 * also counts that stage's samples, so it reports the peak at the kill. Linux only. Throws
 * `InvalidOptionError` for a non-command stage.
 *
 * @example
 * ```ts
 * const events: PipeEvent[] = [];
 * await pipeline({ onEvent: (e) => events.push(e) }).add(memoryObserver(command('make'))).run();
 * ```
 */
export function memoryObserver(stage: Stage, options: MemoryObserverOptions = {}): Stage {
  return new MemoryWatchStage(stage, undefined, options);
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
  #peak: MemoryPeak = {
    maxRssBytes: 0,
    maxHwmBytes: 0,
    samples: 0,
    errors: 0,
    limitExceeded: false,
  };
  #emit: (e: PipeEvent) => void = () => {};

  constructor(inner: Stage, limit: number | undefined, options: MemoryObserverOptions) {
    if (!inner || !processStageOf(inner)) {
      throw new InvalidOptionError(
        'stage',
        `${limit === undefined ? 'memoryObserver' : 'memoryLimit'}: ${inner?.name ?? 'stage'} is not a command stage`,
      );
    }
    const interval = options.intervalMs ?? 1000;
    if (typeof interval !== 'number' || !(interval > 0)) {
      throw new InvalidOptionError('intervalMs', 'must be a positive number');
    }
    if (options.onPeak !== undefined && typeof options.onPeak !== 'function') {
      throw new InvalidOptionError('onPeak', 'must be a function');
    }
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
      const o = this.#options as MemoryLimitOptions;
      if (this.#limit === undefined || o.observe || o.onPeak) this.#report();
    }
  }

  /** The `memory-peak` event and `onPeak`, with a watcher's peak inside counted too. */
  #report(): void {
    const p = this.#peak;
    if (this.inner instanceof MemoryWatchStage) {
      const q = this.inner.peak;
      p.maxRssBytes = Math.max(p.maxRssBytes, q.maxRssBytes);
      p.maxHwmBytes = Math.max(p.maxHwmBytes, q.maxHwmBytes);
      p.limitExceeded ||= q.limitExceeded;
    }
    const event: PipeEvent = {
      type: 'memory-peak',
      stage: this.name,
      maxRssBytes: p.maxRssBytes,
      maxHwmBytes: p.maxHwmBytes,
      samples: p.samples,
      errors: p.errors,
      limitExceeded: p.limitExceeded,
    };
    try {
      this.#emit(event);
    } catch {}
    try {
      this.#options.onPeak?.(p, this.name);
    } catch {}
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
      if (tree.peakBytes > this.#peak.maxHwmBytes) this.#peak.maxHwmBytes = tree.peakBytes;
    } catch {
      this.#peak.errors++;
      return;
    }
    this.#peak.samples++;
    if (used > this.#peak.maxRssBytes) this.#peak.maxRssBytes = used;
    const limit = this.#limit;
    if (limit !== undefined && used > limit && !this.#peak.limitExceeded) {
      this.#peak.limitExceeded = true;
      // Sampling goes on until the exit: a tree still growing in its grace shows in the peak.
      try {
        this.#emit({ type: 'memory-limit', stage: this.name, limit, used, pid });
      } catch {}
      proc.kill(new MemoryLimitError(this.name, limit, used));
    }
  }
}
