/**
 * LimitManager: several controllers propose a WIP limit for one stage (the processing rope, a
 * memory rope, a budget) and the smallest proposal wins. Each proposal can be withdrawn; with
 * none left, the stage goes back to its default. toc's LimitManager, for counts and weights.
 */
import { InvalidOptionError } from '../../../proc/index.js';
import { assertInteger } from '../../validate.js';

/** Sources sluice's own controllers propose under. Any other string is allowed. */
export const LIMIT_SOURCES = Object.freeze({
  processingRope: 'processing-rope',
  weightRope: 'processing-weight-rope',
  memoryRope: 'memory-rope',
  budget: 'budget-allocator',
});

export interface LimitManagerOptions {
  /** Applies a count limit (typically `stage.setMaxWIP`); its numeric return is taken as applied. */
  applyCount?: (n: number) => unknown;
  /** Applies a weight limit (typically `stage.setMaxWIPWeight`). */
  applyWeight?: (n: number) => unknown;
  /**
   * The count limit with no proposal (typically the stage's maxWIP when built). Without one,
   * withdrawing the last proposal leaves the last applied limit in place.
   */
  defaultCount?: number;
  /** The weight limit with no proposal; 0 means weight limiting off (the default). */
  defaultWeight?: number;
}

/** What is in force now and why. */
export interface LimitSnapshot {
  /** The smallest count proposal, or the default (undefined when neither exists). */
  count: number | undefined;
  /** The source of `count`: a proposer, or 'default'. */
  countSource: string | undefined;
  /** What `applyCount` returned the last time it ran (the stage may clamp). */
  appliedCount: number | undefined;
  weight: number | undefined;
  weightSource: string | undefined;
  appliedWeight: number | undefined;
  /** Every live proposal, by source. */
  countProposals: Record<string, number>;
  weightProposals: Record<string, number>;
}

/** A proposer's handle: propose under its source, withdraw, or close (withdraw for good). */
export interface LimitHandle {
  readonly source: string;
  proposeCount(n: number): number | undefined;
  proposeWeight(n: number): number | undefined;
  withdraw(): void;
  close(): void;
}

/** The stage shape `LimitManager.forStage` needs. */
export interface LimitTarget {
  setMaxWIP(n: number): number;
  setMaxWIPWeight?(n: number): number;
  stats(): { maxWIP: number; maxWIPWeight: number };
}

export class LimitManager {
  readonly #count = new Map<string, number>();
  readonly #weight = new Map<string, number>();
  readonly #options: LimitManagerOptions;
  #lastCount: number | undefined;
  #lastWeight: number | undefined;
  #appliedCount: number | undefined;
  #appliedWeight: number | undefined;

  /** Throws a `InvalidOptionError` for a default that is not a non-negative integer. */
  constructor(options: LimitManagerOptions = {}) {
    if (options.defaultCount !== undefined) assertInteger('defaultCount', options.defaultCount, 1);
    if (options.defaultWeight !== undefined)
      assertInteger('defaultWeight', options.defaultWeight, 0);
    this.#options = options;
    this.#lastCount = options.defaultCount;
    this.#lastWeight = options.defaultWeight;
  }

  /** A manager for a flow stage, with the stage's current limits as defaults. */
  static forStage(stage: LimitTarget): LimitManager {
    const s = stage.stats();
    return new LimitManager({
      applyCount: (n) => stage.setMaxWIP(n),
      applyWeight: stage.setMaxWIPWeight ? (n) => stage.setMaxWIPWeight!(n) : undefined,
      defaultCount: s.maxWIP,
      defaultWeight: s.maxWIPWeight,
    });
  }

  /**
   * Records `source`'s count proposal (an integer >= 1) and applies the smallest proposal if it
   * changed. Returns the applied count. Throws a `InvalidOptionError` for a bad value or source.
   */
  proposeCount(source: string, n: number): number | undefined {
    checkSource(source);
    assertInteger('count limit', n, 1);
    this.#count.set(source, n);
    return this.#refreshCount();
  }

  /** Records `source`'s weight proposal (an integer >= 1), as `proposeCount`. */
  proposeWeight(source: string, n: number): number | undefined {
    checkSource(source);
    assertInteger('weight limit', n, 1);
    this.#weight.set(source, n);
    return this.#refreshWeight();
  }

  /** Withdraws `source`'s count proposal (no-op if none). */
  withdrawCount(source: string): void {
    if (this.#count.delete(source)) this.#refreshCount();
  }

  /** Withdraws `source`'s weight proposal (no-op if none). */
  withdrawWeight(source: string): void {
    if (this.#weight.delete(source)) this.#refreshWeight();
  }

  /** Withdraws both of `source`'s proposals. */
  withdraw(source: string): void {
    this.withdrawCount(source);
    this.withdrawWeight(source);
  }

  /** A handle for one source. After `close()`, proposing through it throws. */
  register(source: string): LimitHandle {
    checkSource(source);
    let closed = false;
    const guard = () => {
      if (closed) throw new InvalidOptionError('source', `limit handle "${source}" is closed`);
    };
    return {
      source,
      proposeCount: (n) => {
        guard();
        return this.proposeCount(source, n);
      },
      proposeWeight: (n) => {
        guard();
        return this.proposeWeight(source, n);
      },
      withdraw: () => this.withdraw(source),
      close: () => {
        closed = true;
        this.withdraw(source);
      },
    };
  }

  /** `(n) => proposeCount(source, n)`: what a RopeController's `setHeadWIP` can be. */
  proposer(source: string): (n: number) => number | undefined {
    checkSource(source);
    return (n) => this.proposeCount(source, n);
  }

  /** What is in force now. */
  effective(): LimitSnapshot {
    const [count, countSource] = pick(this.#count, this.#options.defaultCount);
    const [weight, weightSource] = pick(this.#weight, this.#options.defaultWeight);
    return {
      count,
      countSource,
      appliedCount: this.#appliedCount,
      weight,
      weightSource,
      appliedWeight: this.#appliedWeight,
      countProposals: Object.fromEntries(this.#count),
      weightProposals: Object.fromEntries(this.#weight),
    };
  }

  #refreshCount(): number | undefined {
    const [count] = pick(this.#count, this.#options.defaultCount);
    if (count !== undefined && (count !== this.#lastCount || this.#appliedCount === undefined)) {
      this.#lastCount = count;
      const r = this.#options.applyCount?.(count);
      this.#appliedCount = typeof r === 'number' ? r : count;
    }
    return this.#appliedCount;
  }

  #refreshWeight(): number | undefined {
    const [weight] = pick(this.#weight, this.#options.defaultWeight);
    if (
      weight !== undefined &&
      (weight !== this.#lastWeight || this.#appliedWeight === undefined)
    ) {
      this.#lastWeight = weight;
      const r = this.#options.applyWeight?.(weight);
      this.#appliedWeight = typeof r === 'number' ? r : weight;
    }
    return this.#appliedWeight;
  }
}

/** The smallest proposal (first registered wins a tie), else the default. */
function pick(
  proposals: Map<string, number>,
  fallback: number | undefined,
): [number | undefined, string | undefined] {
  let best: [number, string] | undefined;
  for (const [source, n] of proposals) if (!best || n < best[0]) best = [n, source];
  if (best) return best;
  return fallback === undefined ? [undefined, undefined] : [fallback, 'default'];
}

function checkSource(source: unknown): void {
  if (typeof source !== 'string' || source === '' || source === 'default') {
    throw new InvalidOptionError(
      'source',
      `a limit source must be a non-empty name other than "default"`,
    );
  }
}
