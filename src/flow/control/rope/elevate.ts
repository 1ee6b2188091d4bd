/**
 * Elevation for autoRope (focusing step 4): give the drum one more worker at a time, and never
 * take workers back from a stage that was just elevated — toc's migration simulation showed that
 * stealing them makes the old drum the constraint again.
 */

import type { StageHandle } from '../../stage-like.js';
import { assertInteger, assertPositive } from '../../validate.js';
import type { Diagnosis } from '../analysis/analyzer.js';
import { type FlowLogger, logAt } from '../logger.js';
import type { Topology } from '../topology.js';

/** How autoRope adds capacity to the drum. Off unless given. */
export interface ElevateOptions {
  /** The most workers autoRope gives any one stage (integer >= 1). */
  maxWorkers: number;
  /**
   * Windows between two elevations.
   * @default 3
   */
  cooldownWindows?: number;
  /**
   * Windows a stage keeps workers it was given: it is never a donor in that time, and neither is
   * the previous drum in the windows after the constraint moves away from it.
   * @default 10
   */
  protectWindows?: number;
  /**
   * true: move one worker from the least-utilized donor (a non-drum stage with more than one
   * worker that is starved or healthy and not protected); no donor, no move. false: add a worker.
   * @default false
   */
  fromDonors?: boolean;
  /**
   * Analyzer confidence needed before elevating.
   * @default 0.5
   */
  minConfidence?: number;
  /**
   * The only stages autoRope may elevate.
   * @default any stage registered with setWorkers
   */
  stages?: string[];
}

/** One elevation. */
export interface Elevation {
  /** The window it happened in. */
  window: number;
  /** The stage that got a worker. */
  stage: string;
  /** Its worker count after. */
  workers: number;
  /** The stage the worker came from, with `fromDonors`. */
  donor?: string;
}

/** What the elevator reads each window. */
export interface ElevationContext {
  window: number;
  /** The drum a rope holds now (undefined: no rope, no elevation). */
  drum: string | undefined;
  diag: Diagnosis;
  /** A stage's target workers from the latest sample. */
  workersOf: (stage: string) => number | undefined;
  /** The drum before the last move, and the window of that move. */
  previousDrum: string | undefined;
  migratedAt: number;
}

/** @internal autoRope's elevation policy, with its memory of who was elevated when. */
export class Elevator {
  readonly #topology: Topology;
  readonly #logger: FlowLogger;
  readonly #o: Required<ElevateOptions>;
  readonly #elevatedAt = new Map<string, number>();
  readonly elevations: Elevation[] = [];
  #last = Number.NEGATIVE_INFINITY;

  /** Throws an `InvalidOptionError` for a bad option and a `TopologyError` for an unknown stage. */
  constructor(topology: Topology, options: ElevateOptions, logger: FlowLogger) {
    this.#topology = topology;
    this.#logger = logger;
    this.#o = {
      maxWorkers: assertInteger('elevate.maxWorkers', options.maxWorkers, 1),
      cooldownWindows: assertInteger('elevate.cooldownWindows', options.cooldownWindows ?? 3, 1),
      protectWindows: assertInteger('elevate.protectWindows', options.protectWindows ?? 10, 0),
      fromDonors: options.fromDonors ?? false,
      minConfidence: assertPositive('elevate.minConfidence', options.minConfidence ?? 0.5),
      stages: options.stages ?? topology.stages(),
    };
    for (const name of this.#o.stages) topology.stageStats(name); // unknown → TopologyError
  }

  /**
   * Elevates the drum by one worker when it is roped, confirmed with enough confidence,
   * saturated, allowed, below `maxWorkers` and out of cooldown (and, with `fromDonors`, a donor
   * exists). Returns what it did, or undefined.
   */
  step(ctx: ElevationContext): Omit<Elevation, 'window'> | undefined {
    const o = this.#o;
    const { drum, diag, window } = ctx;
    if (!drum || diag.constraint !== drum || !o.stages.includes(drum)) return undefined;
    if (diag.confidence < o.minConfidence || diag.states[drum] !== 'saturated') return undefined;
    if (window - this.#last < o.cooldownWindows) return undefined;
    const handle = this.#topology.stageHandle(drum);
    if (!handle || typeof handle.setWorkers !== 'function') return undefined;
    const workers = ctx.workersOf(drum) ?? 0;
    if (workers < 1 || workers >= o.maxWorkers) return undefined;

    let donor: string | undefined;
    if (o.fromDonors) {
      donor = this.#pickDonor(ctx, drum);
      if (!donor) return undefined;
      const dw = ctx.workersOf(donor)!;
      if (!this.#setWorkers(donor, this.#topology.stageHandle(donor)!, dw - 1)) return undefined;
    }
    if (!this.#setWorkers(drum, handle, workers + 1)) return undefined;
    this.#last = window;
    this.#elevatedAt.set(drum, window);
    const record = { stage: drum, workers: workers + 1, ...(donor ? { donor } : {}) };
    this.elevations.push({ window, ...record });
    logAt(
      this.#logger,
      'info',
      { ...record, window },
      `autoRope: elevate ${drum} to ${workers + 1} workers${donor ? ` (one from ${donor})` : ''}`,
    );
    return record;
  }

  /** The least-utilized starved or healthy stage with a worker to spare that is not protected. */
  #pickDonor(ctx: ElevationContext, drum: string): string | undefined {
    const protect = this.#o.protectWindows;
    let best: { name: string; util: number } | undefined;
    for (const s of ctx.diag.stages) {
      if (s.stage === drum) continue;
      if (s.state !== 'starved' && s.state !== 'healthy') continue;
      const at = this.#elevatedAt.get(s.stage);
      if (at !== undefined && ctx.window - at < protect) continue;
      if (s.stage === ctx.previousDrum && ctx.window - ctx.migratedAt < protect) continue;
      const handle = this.#topology.stageHandle(s.stage);
      if (!handle || typeof handle.setWorkers !== 'function') continue;
      if ((ctx.workersOf(s.stage) ?? 0) <= 1) continue;
      if (!best || s.utilization < best.util) best = { name: s.stage, util: s.utilization };
    }
    return best?.name;
  }

  #setWorkers(name: string, handle: StageHandle, n: number): boolean {
    try {
      const r = handle.setWorkers!(n);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).catch(() => {});
      }
      return true;
    } catch (err) {
      logAt(
        this.#logger,
        'warn',
        { stage: name, workers: n, err },
        `autoRope: setWorkers failed on ${name}`,
      );
      return false;
    }
  }
}
