/**
 * MemoryRope (toc's MemoryRope / MemoryLimiter): a second rope on the head, in bytes instead of
 * items. Each tick it reads the process's memory headroom and proposes, through the head's
 * `LimitManager`, a weight limit that lets the segment's items use at most `budgetFraction` of
 * it. Beside the processing rope it forms the "smallest limit wins" pair the LimitManager exists
 * for. It needs the head stage's `weight` option to return bytes.
 */
import { InvalidOptionError } from '../../../proc/index.js';
import { FlowStateError } from '../../errors.js';
import { assertFraction, assertPositive } from '../../validate.js';
import { type MemoryInfo, readMemoryInfo } from '../analysis/memory.js';
import { type FlowLogger, logAt, silentLogger } from '../logger.js';
import { type Ticker, timerTicker } from '../ticker.js';
import type { RopeSegment, Topology } from '../topology.js';
import type { LimitManager } from './limits.js';

export const MEMORY_ROPE_SOURCE = 'memory-rope';

/** How a `MemoryRope` reads memory and where it proposes. */
export interface MemoryRopeOptions {
  /** A frozen topology; the rope holds the linear segment from the head to `drum`. */
  topology: Topology;
  /** The drum: the rope holds the segment from the head up to it. */
  drum: string;
  /** The head's limit manager; the rope proposes weight limits under 'memory-rope'. */
  limits: LimitManager;
  /** Milliseconds between adjustments (> 0). */
  intervalMs: number;
  /**
   * The share of the headroom the segment's items may take, in (0, 1].
   * @default 0.5
   */
  budgetFraction?: number;
  /**
   * The share of the gap closed per tick when the limit grows, in (0, 1].
   * @default 0.25
   */
  relaxRate?: number;
  /**
   * The memory reading.
   * @default readMemoryInfo() (cgroup, else MemAvailable)
   */
  memory?: () => Pick<MemoryInfo, 'headroomBytes' | 'limitBytes'> | undefined;
  /** pino-compatible; each change of limit is logged at info. @default silent */
  logger?: FlowLogger;
  /** @default a real, unref'd interval timer */
  ticker?: Ticker;
}

/** A snapshot of the memory rope. */
export interface MemoryRopeStats {
  /** The weight limit proposed last (undefined before the first reading). */
  limitBytes: number | undefined;
  /** The target of the last tick: headroom × budgetFraction − weight held past the head. */
  targetBytes: number | undefined;
  /** The headroom read at the last tick (undefined without a reading). */
  headroomBytes: number | undefined;
  /** Weight admitted by the segment's stages other than the head at the last tick. */
  downstreamBytes: number;
  /** How many times the proposed limit changed. */
  adjustments: number;
}

/**
 * Each tick: target = headroom × budgetFraction − the weight the segment's other stages hold
 * (at least 1 byte). A target below the current limit is applied at once (memory pressure is not
 * negotiated); a target above it is approached by `relaxRate` of the gap per tick, so a burst of
 * freed memory does not open the gate wide at once. Without a reading (no limit known), the
 * proposal is withdrawn and the head falls back to its other limits.
 */
export class MemoryRope {
  readonly #topology: Topology;
  readonly #seg: RopeSegment;
  readonly #limits: LimitManager;
  readonly #intervalMs: number;
  readonly #fraction: number;
  readonly #relax: number;
  readonly #memory: () => Pick<MemoryInfo, 'headroomBytes' | 'limitBytes'> | undefined;
  readonly #logger: FlowLogger;
  readonly #ticker: Ticker;
  #started = false;
  #limit: number | undefined;
  #target: number | undefined;
  #headroom: number | undefined;
  #downstream = 0;
  #adjustments = 0;

  /** Throws a `TopologyError` for a segment that is not a linear chain, an `InvalidOptionError` for bad options. */
  constructor(options: MemoryRopeOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'MemoryRope needs an options object');
    }
    this.#topology = options.topology;
    this.#seg = options.topology.ropeSegment(options.drum);
    if (!options.limits || typeof options.limits.proposeWeight !== 'function') {
      throw new InvalidOptionError('limits', "MemoryRope needs the head's LimitManager");
    }
    this.#limits = options.limits;
    this.#intervalMs = assertPositive('intervalMs', options.intervalMs);
    this.#fraction = assertPositive(
      'budgetFraction',
      assertFraction('budgetFraction', options.budgetFraction ?? 0.5),
    );
    this.#relax = assertPositive(
      'relaxRate',
      assertFraction('relaxRate', options.relaxRate ?? 0.25),
    );
    this.#memory = options.memory ?? (() => readMemoryInfo());
    this.#logger = options.logger ?? silentLogger;
    this.#ticker = options.ticker ?? timerTicker;
  }

  /** Adjusts once at start and once per tick until `signal` aborts; then withdraws its proposal. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new FlowStateError('MemoryRope.run() called twice');
    this.#started = true;
    if (signal.aborted) return;
    this.#safeTick();
    for await (const _ of this.#ticker.ticks(this.#intervalMs, signal)) {
      this.#safeTick();
      if (signal.aborted) break;
    }
    this.#limits.withdrawWeight(MEMORY_ROPE_SOURCE);
  }

  /** One adjustment, as described on the class. */
  tick(): void {
    const reading = this.#memory();
    if (!reading || !(reading.limitBytes > 0)) {
      this.#headroom = undefined;
      this.#target = undefined;
      if (this.#limit !== undefined) this.#limits.withdrawWeight(MEMORY_ROPE_SOURCE);
      this.#limit = undefined;
      return;
    }
    let downstream = 0;
    for (const name of this.#seg.segment) {
      if (name === this.#seg.head) continue;
      downstream += Math.max(0, this.#topology.stageStats(name)().admittedWeight);
    }
    const target = Math.max(1, Math.floor(reading.headroomBytes * this.#fraction - downstream));
    const prev = this.#limit;
    const next =
      prev === undefined || target <= prev
        ? target
        : Math.ceil(prev + this.#relax * (target - prev));
    this.#headroom = reading.headroomBytes;
    this.#downstream = downstream;
    this.#target = target;
    this.#limit = next;
    this.#adjustments++;
    this.#limits.proposeWeight(MEMORY_ROPE_SOURCE, next);
    if (next !== prev) {
      logAt(
        this.#logger,
        'info',
        {
          head: this.#seg.head,
          limitBytes: next,
          targetBytes: target,
          headroomBytes: reading.headroomBytes,
        },
        `memory rope ${this.#seg.head}: limit=${next} target=${target} headroom=${reading.headroomBytes}`,
      );
    }
  }

  /** A snapshot of the rope. */
  stats(): MemoryRopeStats {
    return {
      limitBytes: this.#limit,
      targetBytes: this.#target,
      headroomBytes: this.#headroom,
      downstreamBytes: this.#downstream,
      adjustments: this.#adjustments,
    };
  }

  #safeTick(): void {
    try {
      this.tick();
    } catch (err) {
      logAt(this.#logger, 'error', { err }, 'memory rope: tick failed');
    }
  }
}
