/**
 * RopeController: holds the rope from the drum back to the head. Every interval it sizes the WIP
 * the segment from the head to the drum may hold, by Little's law from the drum's smoothed goodput
 * and the segment's smoothed flow time, and sets the head stage's WIP limit to what is left of it.
 */
import { InvalidOptionError } from '../../../proc/index.js';
import { FlowStateError } from '../../errors.js';
import { assertInteger, assertPositive } from '../../validate.js';
import { IntervalSampler, type IntervalStats } from '../analysis/interval.js';
import { ceilClean } from '../analysis/zones.js';
import { type FlowLogger, logAt, silentLogger } from '../logger.js';
import { type ClockOptions, type Ticker, timerTicker } from '../ticker.js';
import type { RopeSegment, Topology } from '../topology.js';

/** toc's constants: EWMA weight of the newest sample, the error-rate cut-off and inflation cap. */
export const ROPE_EWMA_ALPHA = 0.3;
export const ROPE_ERROR_CUTOFF = 0.95;
export const ROPE_MAX_YIELD_INFLATION = 10;

export interface RopeControllerOptions extends ClockOptions {
  /** A frozen topology holding the drum and the stages upstream of it. */
  topology: Topology;
  /** The constraint: the stage whose pace the rope follows. */
  drum: string;
  /**
   * Sets the head stage's WIP limit and returns the value applied (typically
   * `head.setMaxWIP`, or a `LimitManager` proposer). When omitted, the head's `setMaxWIP` from
   * the topology is used, if the head was registered as a stage.
   */
  setHeadWIP?: (n: number) => unknown;
  /**
   * The latest interval of a named stage. When omitted, the controller samples the topology
   * itself at each tick (its first interval then starts when `run` starts).
   */
  snapshot?: (name: string) => IntervalStats;
  /** Milliseconds between adjustments (> 0). */
  intervalMs: number;
  /**
   * Multiplier on Little's law (> 0).
   * @default 1.5
   */
  safetyFactor?: number;
  /**
   * Rope length before the first goodput is measured (integer >= 1).
   * @default 1
   */
  initialRopeLength?: number;
  /**
   * pino-compatible; each change of rope length or head limit is logged at info.
   * @default silent
   */
  logger?: FlowLogger;
  /**
   * Where the ticks come from (`ManualTicker` steps them by hand).
   * @default a real, unref'd interval timer
   */
  ticker?: Ticker;
}

/** A snapshot of the controller. */
export interface RopeStats {
  /** The drum this rope holds. */
  drum: string;
  /** The head whose WIP it sets. */
  head: string;
  /** The WIP the segment may hold now. */
  ropeLength: number;
  /** Permits held across the segment (head to the stage before the drum) at the last tick. */
  ropeWIP: number;
  /** ropeWIP / ropeLength. */
  ropeUtilization: number;
  /** EWMA of the drum's goodput, items/s (0 before the first measurement). */
  drumGoodput: number;
  /** EWMA of the drum's error rate. */
  drumErrorRate: number;
  /** Sum over the segment of each stage's EWMA flow time, ms. */
  flowTimeMs: number;
  /** Whether a goodput has been measured (before that, ropeLength is initialRopeLength). */
  warmedUp: boolean;
  /** How many times the head limit was set. */
  adjustmentCount: number;
  /** What the last `setHeadWIP` call returned. */
  headAppliedWIP: number | undefined;
}

/**
 * Holds a rope for one drum. The segment must be one linear chain: exactly one head feeds the
 * drum, no stage on the way branches or has side inputs, the drum has one predecessor (toc's
 * rule; a `TopologyError` at construction otherwise).
 *
 * Each tick:
 * 1. The drum's goodput and error rate are smoothed (EWMA, α = 0.3). Goodput is seeded by the
 *    first positive sample and then only updated by positive samples (a quiet interval holds
 *    it); the error rate is updated whenever the drum completed something. Until the first
 *    goodput, the rope is `initialRopeLength`.
 * 2. An error rate of 0.95 or more sets the rope to 1: nothing is gained by feeding a drum that
 *    fails almost everything.
 * 3. The release rate is goodput / (1 − error rate), at most 10 × goodput.
 * 4. Each segment stage's flow time is (Δservice + ΔoutputBlocked) / completions, smoothed; an
 *    interval without completions holds the last value. The segment's flow time is their sum.
 * 5. ropeLength = max(1, ceil(rate × flowTime × safetyFactor)) (Little's law: 50/s × 35 ms × 1.5
 *    → 3).
 * 6. The head's limit is max(1, ropeLength − permits held by the other segment stages).
 *
 * A soft control: lowering a stage's limit revokes no permit, and the head's floor is 1. The
 * drum's own queue is not part of the segment; bound it with the drum's `capacity` (that queue is
 * the drum's buffer). `run` applies `initialRopeLength` at once, before the first tick.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const rope = new RopeController({ topology, drum: 'transform', intervalMs: 250 });
 * void rope.run(ac.signal); // sets the head's maxWIP to the rope length, then follows the drum
 * // … when the work is done:
 * ac.abort();
 * console.log(rope.stats().ropeLength);
 * ```
 */
export class RopeController {
  readonly #topology: Topology;
  readonly #seg: RopeSegment;
  readonly #setHeadWIP: (n: number) => unknown;
  readonly #snapshot: (name: string) => IntervalStats;
  readonly #sampler: IntervalSampler | undefined;
  readonly #intervalMs: number;
  readonly #safety: number;
  readonly #initial: number;
  readonly #logger: FlowLogger;
  readonly #ticker: Ticker;

  #started = false;
  #warmedUp = false;
  #goodput = 0;
  #errorRate = 0;
  #errorSeeded = false;
  readonly #flow = new Map<string, number>();
  #ropeLength: number;
  #ropeWIP = 0;
  #adjustments = 0;
  #applied: number | undefined;
  #lastLog = '';

  /**
   * Throws a `TopologyError` when the topology is not frozen, the drum is unknown or the segment
   * is not a linear chain, and an `InvalidOptionError` for a bad interval, safety factor or initial
   * length, or when there is no way to set the head's WIP.
   */
  constructor(options: RopeControllerOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'RopeController needs an options object');
    }
    const { topology, drum } = options;
    if (!topology || typeof topology.ropeSegment !== 'function') {
      throw new InvalidOptionError('topology', 'RopeController needs a frozen Topology');
    }
    this.#topology = topology;
    this.#seg = topology.ropeSegment(drum);
    this.#intervalMs = assertPositive('intervalMs', options.intervalMs);
    this.#safety = assertPositive('safetyFactor', options.safetyFactor ?? 1.5);
    this.#initial = assertInteger('initialRopeLength', options.initialRopeLength ?? 1, 1);
    const set = options.setHeadWIP ?? headSetter(topology, this.#seg.head);
    if (typeof set !== 'function') {
      throw new InvalidOptionError(
        'setHeadWIP',
        `RopeController needs setHeadWIP, or head "${this.#seg.head}" registered as a stage with setMaxWIP`,
      );
    }
    this.#setHeadWIP = set;
    if (options.snapshot !== undefined && typeof options.snapshot !== 'function') {
      throw new InvalidOptionError('snapshot', 'must be a function (name) => IntervalStats');
    }
    if (options.snapshot) {
      this.#snapshot = options.snapshot;
    } else {
      const names = [...this.#seg.segment, drum];
      this.#sampler = new IntervalSampler(
        new Map(names.map((n) => [n, topology.stageStats(n)] as const)),
        options,
      );
      this.#snapshot = this.#sampler.snapshot;
    }
    this.#logger = options.logger ?? silentLogger;
    this.#ticker = options.ticker ?? timerTicker;
    this.#ropeLength = this.#initial;
  }

  /** The head, segment and drum this rope holds. */
  get segment(): RopeSegment {
    return { ...this.#seg, segment: [...this.#seg.segment] };
  }

  /**
   * Applies `initialRopeLength` at once, then adjusts once per tick until `signal` aborts, and
   * resolves (it never rejects for an abort). A tick that throws (a stats accessor or
   * `setHeadWIP` failing) is logged at error and the loop goes on. Throws a `FlowStateError` if
   * called twice.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new FlowStateError('RopeController.run() called twice');
    this.#started = true;
    if (signal.aborted) return;
    try {
      this.#sampler?.sample();
      this.#apply(this.#ropeLength);
    } catch (err) {
      logAt(
        this.#logger,
        'error',
        { drum: this.#seg.drum, err },
        `rope ${this.#seg.drum}: start failed`,
      );
    }
    for await (const _ of this.#ticker.ticks(this.#intervalMs, signal)) {
      try {
        this.tick();
      } catch (err) {
        // A stats accessor or setHeadWIP that throws must not end the loop: log and go on.
        logAt(
          this.#logger,
          'error',
          { drum: this.#seg.drum, err },
          `rope ${this.#seg.drum}: tick failed`,
        );
      }
      if (signal.aborted) break;
    }
  }

  /** One adjustment, as described on the class. `run` calls it per tick; tests may call it directly. */
  tick(): void {
    this.#sampler?.sample();
    const drum = this.#snapshot(this.#seg.drum);
    const completed = drum.itemsCompleted > 0;

    if (!this.#warmedUp) {
      if (drum.goodput > 0) {
        this.#warmedUp = true;
        this.#goodput = drum.goodput;
        this.#errorRate = drum.errorRate;
        this.#errorSeeded = true;
      } else {
        if (completed) this.#smoothError(drum.errorRate);
        this.#updateFlow();
        this.#apply(this.#initial);
        return;
      }
    } else {
      if (drum.goodput > 0) this.#goodput = ewma(this.#goodput, drum.goodput);
      if (completed) this.#smoothError(drum.errorRate);
    }

    const flowSec = this.#updateFlow() / 1000;
    if (this.#errorRate >= ROPE_ERROR_CUTOFF) {
      this.#apply(1);
      return;
    }
    let rate = this.#goodput;
    if (this.#errorRate > 0) {
      rate = Math.min(
        this.#goodput / (1 - this.#errorRate),
        this.#goodput * ROPE_MAX_YIELD_INFLATION,
      );
    }
    this.#apply(Math.max(1, ceilClean(rate * flowSec * this.#safety)));
  }

  /** A snapshot of the controller's state. */
  stats(): RopeStats {
    let flowTimeMs = 0;
    for (const v of this.#flow.values()) flowTimeMs += v;
    return {
      drum: this.#seg.drum,
      head: this.#seg.head,
      ropeLength: this.#ropeLength,
      ropeWIP: this.#ropeWIP,
      ropeUtilization: this.#ropeLength > 0 ? this.#ropeWIP / this.#ropeLength : 0,
      drumGoodput: this.#goodput,
      drumErrorRate: this.#errorRate,
      flowTimeMs,
      warmedUp: this.#warmedUp,
      adjustmentCount: this.#adjustments,
      headAppliedWIP: this.#applied,
    };
  }

  #smoothError(sample: number): void {
    if (this.#errorSeeded) this.#errorRate = ewma(this.#errorRate, sample);
    else {
      this.#errorRate = sample;
      this.#errorSeeded = true;
    }
  }

  /** Smooths each segment stage's flow time and returns their sum in ms. */
  #updateFlow(): number {
    let total = 0;
    for (const name of this.#seg.segment) {
      const iv = this.#snapshot(name);
      if (iv.itemsCompleted > 0) {
        const raw = (iv.serviceTimeDeltaMs + iv.outputBlockedDeltaMs) / iv.itemsCompleted;
        const prev = this.#flow.get(name);
        if (raw > 0) this.#flow.set(name, prev === undefined ? raw : ewma(prev, raw));
      }
      total += this.#flow.get(name) ?? 0;
    }
    return total;
  }

  #apply(length: number): void {
    this.#ropeLength = length;
    let wip = 0;
    let headWip = 0;
    for (const name of this.#seg.segment) {
      const admitted = Math.max(0, this.#topology.stageStats(name)().admitted);
      wip += admitted;
      if (name === this.#seg.head) headWip = admitted;
    }
    this.#ropeWIP = wip;
    const headLimit = Math.max(1, length - (wip - headWip));
    const r = this.#setHeadWIP(headLimit);
    this.#applied = typeof r === 'number' ? r : headLimit;
    this.#adjustments++;
    const key = `${length}/${wip}/${this.#applied}`;
    if (key !== this.#lastLog) {
      this.#lastLog = key;
      logAt(
        this.#logger,
        'info',
        {
          drum: this.#seg.drum,
          head: this.#seg.head,
          ropeLength: length,
          ropeWIP: wip,
          headLimit,
          headApplied: this.#applied,
          drumGoodput: round(this.#goodput, 2),
          drumErrorRate: round(this.#errorRate, 3),
        },
        `rope ${this.#seg.drum}: length=${length} wip=${wip} head ${this.#seg.head}=${this.#applied}`,
      );
    }
  }
}

function ewma(prev: number, sample: number): number {
  return ROPE_EWMA_ALPHA * sample + (1 - ROPE_EWMA_ALPHA) * prev;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function headSetter(topology: Topology, head: string): ((n: number) => number) | undefined {
  const handle = topology.stageHandle(head);
  if (handle && typeof handle.setMaxWIP === 'function') return (n) => handle.setMaxWIP!(n);
  return undefined;
}
