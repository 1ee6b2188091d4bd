/**
 * The constraint finder (toc's core.Analyzer): classifies every stage each window and names the
 * constraint once one saturated stage has stood out for several windows in a row. Deterministic:
 * no clock, no timers; the same sequence of observations gives the same sequence of diagnoses.
 */
import { InvalidOptionError } from '../../../proc/index.js';
import { assertFraction, assertInteger, assertPositive } from '../../validate.js';
import type { StageObservation } from './focusing.js';

/**
 * A stage's condition in one window.
 *
 * - `unknown`: no data (no capacity, or neither completions nor busy time).
 * - `broken`: error rate above `brokenError`.
 * - `starved`: idle above `starvedIdle` and its queue not growing: it waits for work.
 * - `blocked`: waiting on its consumer above `blockedBlocked`: downstream holds it back.
 * - `saturated`: busy above `saturatedBusy`, idle below `saturatedIdle`, blocked below
 *   `saturatedBlocked` (a signal the source lacks passes): a constraint candidate.
 * - `healthy`: none of the above.
 */
export type StageState = 'unknown' | 'healthy' | 'starved' | 'blocked' | 'saturated' | 'broken';

/** Classification thresholds and the hysteresis of the constraint pick. */
export interface Thresholds {
  /**
   * Error rate (failed / completed) above which a stage is `broken`.
   * @default 0.2
   */
  brokenError: number;
  /**
   * Idle share above which a stage whose queue is not growing is `starved`.
   * @default 0.5
   */
  starvedIdle: number;
  /**
   * Output-blocked share above which a stage is `blocked`.
   * @default 0.3
   */
  blockedBlocked: number;
  /**
   * Busy share (utilization) above which a stage may be `saturated`.
   * @default 0.7
   */
  saturatedBusy: number;
  /**
   * A saturated stage is idle less than this share.
   * @default 0.3
   */
  saturatedIdle: number;
  /**
   * A saturated stage is blocked less than this share.
   * @default 0.2
   */
  saturatedBlocked: number;
  /**
   * Consecutive windows a challenger must be the sole top saturated stage to become the constraint.
   * @default 3
   */
  hysteresisWindows: number;
  /**
   * Consecutive windows the constraint may go without being the top saturated stage before it is
   * dropped (the constraint becomes undefined). Infinity (the default) keeps it until a challenger
   * replaces it: the pick is sticky.
   * @default Infinity
   */
  demotionWindows: number;
  /**
   * Two saturated stages closer than this in utilization are a tie: no top stage that window.
   * @default 0.05
   */
  tieMargin: number;
  /**
   * Windows of support for full confidence: confidence = min(support / confidenceWindows, 1).
   * @default 10
   */
  confidenceWindows: number;
}

/** toc's thresholds (Goldratt / TameFlow conventions). */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  brokenError: 0.2,
  starvedIdle: 0.5,
  blockedBlocked: 0.3,
  saturatedBusy: 0.7,
  saturatedIdle: 0.3,
  saturatedBlocked: 0.2,
  hysteresisWindows: 3,
  demotionWindows: Number.POSITIVE_INFINITY,
  tieMargin: 0.05,
  confidenceWindows: 10,
});

/** How an `Analyzer` classifies stages and picks the constraint. */
export interface AnalyzerOptions {
  /**
   * Overrides of `DEFAULT_THRESHOLDS`, field by field.
   * @default DEFAULT_THRESHOLDS
   */
  thresholds?: Partial<Thresholds>;
  /**
   * Pin the drum: it is reported as the constraint with confidence 1, whatever the data says.
   * @default none: the analyzer finds it
   */
  drum?: string;
}

/** One stage's classification and the ratios it came from. */
export interface StageDiagnosis {
  /** The stage's name. */
  stage: string;
  /** Its state this window. */
  state: StageState;
  /** busy / capacity. */
  utilization: number;
  /** idle / capacity, when the source reports idle time. */
  idleRatio: number | undefined;
  /** blocked / capacity, when the source reports blocked time. */
  blockedRatio: number | undefined;
  /** failures / completions (0 without completions). */
  errorRate: number;
  /** Queue depth now minus at the previous window (0 on a stage's first window). */
  queueGrowth: number;
}

/** How sure the analyzer is about the constraint. */
export type ConstraintStatus =
  | 'unknown' // no observations
  | 'unconstrained' // nothing saturated, nothing building
  | 'ambiguous' // two saturated stages tie
  | 'emerging' // a challenger is building toward promotion
  | 'identified' // a constraint is confirmed
  | 'pinned'; // the drum is pinned by the caller

/** The result of one `step`. */
export interface Diagnosis {
  /** The constraint (the drum), or undefined while none is confirmed. */
  constraint: string | undefined;
  /** 0 without a constraint; 1 when pinned; else min(support windows / confidenceWindows, 1). */
  confidence: number;
  /** Each observed stage's state, by name. */
  states: Record<string, StageState>;
  /** The details, in observation order. */
  stages: StageDiagnosis[];
  /**
   * What the pick amounts to: `identified`, `pinned`, `emerging`, `ambiguous`, `unconstrained` or
   * `unknown`.
   */
  status: ConstraintStatus;
  /** The sole top saturated stage of this window, if any. */
  top: string | undefined;
  /** A challenger building toward replacing (or becoming) the constraint, and its windows. */
  candidate: string | undefined;
  /** Consecutive windows the candidate has been the top stage (0 without a candidate). */
  candidateWindows: number;
  /** Consecutive windows the constraint has been starved. */
  starvationCount: number;
}

/**
 * Finds the constraint. Call `step` once per window with every stage's observation.
 *
 * The pick: each window, the saturated stage with the highest utilization is the top stage,
 * unless another saturated stage is within `tieMargin` of it (a tie: no top stage). A top stage
 * other than the constraint is a challenger; after `hysteresisWindows` consecutive windows as top
 * it becomes the constraint (a window without it resets its count). The constraint's support
 * counts its consecutive windows as top and gives the confidence. With a pinned drum the pick is
 * skipped and the drum is reported with confidence 1; states are still classified.
 *
 * @example
 * ```ts
 * const analyzer = new Analyzer();
 * const d = analyzer.step([observe('parse', prev, curr, 1000), observe('transform', prevT, currT, 1000)]);
 * console.log(d.constraint, d.confidence, d.states); // after 3 windows: 'transform', 0.3, …
 * ```
 */
export class Analyzer {
  /** The thresholds in force (the defaults with the options' overrides). */
  readonly thresholds: Readonly<Thresholds>;
  #drum: string | undefined;
  #prevDepth = new Map<string, number>();
  #incumbent: string | undefined;
  #support = 0;
  #unsupported = 0;
  #challenger: string | undefined;
  #challengerN = 0;
  #starvation = 0;

  /** Throws an `InvalidOptionError` for a threshold out of range or an empty pinned drum. */
  constructor(options: AnalyzerOptions = {}) {
    const t: Thresholds = { ...DEFAULT_THRESHOLDS, ...(options.thresholds ?? {}) };
    for (const k of [
      'brokenError',
      'starvedIdle',
      'blockedBlocked',
      'saturatedIdle',
      'saturatedBlocked',
      'tieMargin',
    ] as const) {
      assertFraction(`thresholds.${k}`, t[k]);
    }
    assertPositive('thresholds.saturatedBusy', t.saturatedBusy);
    assertInteger('thresholds.hysteresisWindows', t.hysteresisWindows, 1);
    assertPositive('thresholds.confidenceWindows', t.confidenceWindows);
    if (t.demotionWindows !== Number.POSITIVE_INFINITY) {
      assertInteger('thresholds.demotionWindows', t.demotionWindows, 1);
    }
    this.thresholds = Object.freeze(t);
    this.setDrum(options.drum);
  }

  /** The pinned drum, if any. */
  get drum(): string | undefined {
    return this.#drum;
  }

  /** The confirmed constraint (ignoring a pinned drum), if any. */
  get constraint(): string | undefined {
    return this.#incumbent;
  }

  /** Pins the drum, or with undefined returns to automatic identification. */
  setDrum(name: string | undefined): void {
    if (name !== undefined && (typeof name !== 'string' || name === '')) {
      throw new InvalidOptionError('drum', 'must be a non-empty stage name or undefined');
    }
    if (name !== undefined && name !== this.#drum) {
      this.#challenger = undefined;
      this.#challengerN = 0;
    }
    if (name !== this.#drum) this.#starvation = 0;
    this.#drum = name;
  }

  /** Forgets all history (queue depths, constraint, challenger), keeping thresholds and a pin. */
  reset(): void {
    this.#prevDepth.clear();
    this.#incumbent = undefined;
    this.#support = 0;
    this.#unsupported = 0;
    this.#challenger = undefined;
    this.#challengerN = 0;
    this.#starvation = 0;
  }

  /** Classifies one window and updates the constraint pick. */
  step(observations: readonly StageObservation[]): Diagnosis {
    const t = this.thresholds;
    const stages = observations.map((o) => this.#classify(o));
    for (const o of observations) {
      if (o.queueDepth !== undefined) this.#prevDepth.set(o.stage, o.queueDepth);
    }

    const { top, tied } = this.#topSaturated(stages);

    const states: Record<string, StageState> = {};
    for (const s of stages) states[s.stage] = s.state;

    if (this.#drum !== undefined) {
      this.#trackStarvation(this.#drum, states);
      return {
        constraint: this.#drum,
        confidence: 1,
        states,
        stages,
        status: 'pinned',
        top,
        candidate: undefined,
        candidateWindows: 0,
        starvationCount: this.#starvation,
      };
    }

    this.#updatePick(top);

    if (this.#incumbent !== undefined) this.#trackStarvation(this.#incumbent, states);

    const building = this.#challenger !== undefined && this.#challengerN > 0;
    return {
      constraint: this.#incumbent,
      confidence:
        this.#incumbent === undefined ? 0 : Math.min(this.#support / t.confidenceWindows, 1),
      states,
      stages,
      status: this.#status(observations.length, tied),
      top,
      candidate: building ? this.#challenger : undefined,
      candidateWindows: building ? this.#challengerN : 0,
      starvationCount: this.#starvation,
    };
  }

  /** The saturated stage with the highest utilization, unless another is within `tieMargin`. */
  #topSaturated(stages: readonly StageDiagnosis[]): { top: string | undefined; tied: boolean } {
    const saturated = stages.filter((s) => s.state === 'saturated');
    if (saturated.length === 0) return { top: undefined, tied: false };
    let best = saturated[0]!;
    for (const s of saturated) if (s.utilization > best.utilization) best = s;
    const tied = saturated.some(
      (s) => s !== best && best.utilization - s.utilization < this.thresholds.tieMargin,
    );
    return { top: tied ? undefined : best.stage, tied };
  }

  /**
   * The hysteresis: a challenger must top `hysteresisWindows` windows in a row to become the
   * constraint; an incumbent not on top for `demotionWindows` windows is demoted.
   */
  #updatePick(top: string | undefined): void {
    const t = this.thresholds;
    // Challenger: a top stage that is not the constraint builds; any other window resets it.
    if (top !== undefined && top !== this.#incumbent) {
      if (top === this.#challenger) this.#challengerN++;
      else {
        this.#challenger = top;
        this.#challengerN = 1;
      }
    } else {
      this.#challengerN = 0;
    }

    if (this.#challenger !== undefined && this.#challengerN >= t.hysteresisWindows) {
      this.#incumbent = this.#challenger;
      this.#challenger = undefined;
      this.#challengerN = 0;
      this.#support = t.hysteresisWindows - 1; // counted up to hysteresisWindows just below
      this.#unsupported = 0;
      this.#starvation = 0;
    }

    if (this.#incumbent !== undefined) {
      if (top === this.#incumbent) {
        this.#support++;
        this.#unsupported = 0;
      } else {
        this.#support = 0;
        this.#unsupported++;
        if (this.#unsupported >= t.demotionWindows) {
          this.#incumbent = undefined;
          this.#support = 0;
          this.#unsupported = 0;
          this.#starvation = 0;
        }
      }
    }
  }

  /** What the pick amounts to after this window. */
  #status(observed: number, tied: boolean): ConstraintStatus {
    if (observed === 0) return 'unknown';
    if (this.#incumbent !== undefined) return 'identified';
    if (this.#challenger !== undefined && this.#challengerN > 0) return 'emerging';
    return tied ? 'ambiguous' : 'unconstrained';
  }

  #trackStarvation(target: string, states: Record<string, StageState>): void {
    if (states[target] === 'starved') this.#starvation++;
    else this.#starvation = 0;
  }

  #classify(o: StageObservation): StageDiagnosis {
    const t = this.thresholds;
    const prevDepth = this.#prevDepth.get(o.stage);
    const queueGrowth =
      o.queueDepth !== undefined && prevDepth !== undefined ? o.queueDepth - prevDepth : 0;
    const cap = o.capacityWork > 0 ? o.capacityWork : 0;
    const utilization = cap > 0 ? o.busyWork / cap : 0;
    const idleRatio = cap > 0 && o.idleWork !== undefined ? o.idleWork / cap : undefined;
    const blockedRatio = cap > 0 && o.blockedWork !== undefined ? o.blockedWork / cap : undefined;
    const completions = o.completions ?? 0;
    const errorRate =
      completions > 0 && o.failures !== undefined ? Math.min(1, o.failures / completions) : 0;

    let state: StageState;
    if (cap === 0 || (completions === 0 && utilization === 0)) state = 'unknown';
    else if (errorRate > t.brokenError) state = 'broken';
    else if (idleRatio !== undefined && idleRatio > t.starvedIdle && queueGrowth <= 0) {
      state = 'starved';
    } else if (blockedRatio !== undefined && blockedRatio > t.blockedBlocked) state = 'blocked';
    else if (
      utilization > t.saturatedBusy &&
      (idleRatio === undefined || idleRatio < t.saturatedIdle) &&
      (blockedRatio === undefined || blockedRatio < t.saturatedBlocked)
    ) {
      state = 'saturated';
    } else state = 'healthy';

    return { stage: o.stage, state, utilization, idleRatio, blockedRatio, errorRate, queueGrowth };
  }
}
