/**
 * LimitManager: several controllers propose a WIP limit for one stage (the processing rope, a
 * memory rope, a budget) and the smallest proposal wins. Each proposal can be withdrawn; with
 * none left, the stage goes back to its default. toc's LimitManager, for counts and weights.
 */
import { InvalidOptionError } from '../../../proc/index.js';
import { assertInteger } from '../../validate.js';

/** Sources sluice's own controllers propose under. Any other string is allowed. */
export const LIMIT_SOURCES = Object.freeze({
  /** The RopeController's count limit. */
  processingRope: 'processing-rope',
  /** A weight rope's limit (reserved; sluice's rope is count-based). */
  weightRope: 'processing-weight-rope',
  /** MemoryRope's weight limit, in bytes. */
  memoryRope: 'memory-rope',
  /** A memory budget's limit (reserved for your own proposer). */
  budget: 'budget-allocator',
});

/** What a `LimitManager` applies and its baseline. */
export interface LimitManagerOptions {
  /**
   * Applies a count limit (typically `stage.setMaxWIP`); its numeric return is taken as applied.
   * @default none: counts are only recorded
   */
  applyCount?: (n: number) => unknown;
  /**
   * Applies a weight limit (typically `stage.setMaxWIPWeight`).
   * @default none: weights are only recorded
   */
  applyWeight?: (n: number) => unknown;
  /**
   * The count limit with no proposal (typically the stage's maxWIP when built). Without one,
   * withdrawing the last proposal leaves the last applied limit in place.
   * @default none
   */
  defaultCount?: number;
  /**
   * The weight limit with no proposal; 0 means weight limiting off.
   * @default 0
   */
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
  /** The smallest weight proposal, or the default (undefined when neither exists). */
  weight: number | undefined;
  /** The source of `weight`: a proposer, or 'default'. */
  weightSource: string | undefined;
  /** What `applyWeight` returned the last time it ran. */
  appliedWeight: number | undefined;
  /** Every live proposal, by source. */
  countProposals: Record<string, number>;
  /** Every live weight proposal, by source. */
  weightProposals: Record<string, number>;
}

/** A proposer's handle: propose under its source, withdraw, or close (withdraw for good). */
export interface LimitHandle {
  /** The source this handle proposes under. */
  readonly source: string;
  /** Proposes a count limit (an integer >= 1); returns the count now applied. */
  proposeCount(n: number): number | undefined;
  /** Proposes a weight limit (an integer >= 0); returns the weight now applied. */
  proposeWeight(n: number): number | undefined;
  /** Withdraws both proposals; the handle may propose again. */
  withdraw(): void;
  /** Withdraws for good: later proposals throw. */
  close(): void;
}

/** The stage shape `LimitManager.forStage` needs. */
export interface LimitTarget {
  /** Applies a count limit; returns the value applied. */
  setMaxWIP(n: number): number;
  /** Applies a weight limit; returns the value applied. */
  setMaxWIPWeight?(n: number): number;
  /** The stage's current limits, taken as the manager's defaults. */
  stats(): {
    /** The count limit in force. */
    maxWIP: number;
    /** The weight limit in force (0: off). */
    maxWIPWeight: number;
  };
}

/**
 * The limits of one stage, proposed by several sources: the smallest count and the smallest
 * weight proposal win, over a default baseline; a withdrawn proposal no longer counts. The limit
 * is applied (through `applyCount` / `applyWeight`) only when the winning value changes.
 *
 * @example
 * ```ts
 * const limits = LimitManager.forStage(head);
 * limits.proposeCount('processing-rope', 8);
 * limits.proposeCount('memory-rope', 5); // head.stats().maxWIP is now 5
 * limits.withdraw('memory-rope'); // back to 8
 * ```
 */
export class LimitManager {
  readonly #count = new Map<string, number>();
  readonly #weight = new Map<string, number>();
  readonly #options: LimitManagerOptions;
  #lastCount: number | undefined;
  #lastWeight: number | undefined;
  #appliedCount: number | undefined;
  #appliedWeight: number | undefined;

  /** Throws an `InvalidOptionError` for a default that is not a non-negative integer. */
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
   * changed. Returns the applied count. Throws an `InvalidOptionError` for a bad value or source.
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
