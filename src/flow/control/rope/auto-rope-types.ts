/**
 * The shapes `autoRope` takes and gives: its options, the record of each window, and its stats
 * snapshot. Kept apart from the loop in auto-rope.ts, which re-exports them.
 */

import type { Analyzer, AnalyzerOptions, StageState } from '../analysis/analyzer.js';
import type { FocusingStep } from '../analysis/focusing.js';
import type { FlowLogger } from '../logger.js';
import type { ClockOptions, Ticker } from '../ticker.js';
import type { Topology } from '../topology.js';
import type { ElevateOptions, Elevation } from './elevate.js';
import type { RopeStats } from './rope-controller.js';

/** How `autoRope` samples, analyzes, ropes and elevates. */
export interface AutoRopeOptions extends ClockOptions {
  /** A frozen topology. Heads must be registered as stages (with setMaxWIP) or `setHeadWIP` given. */
  topology: Topology;
  /** Milliseconds per window (> 0). */
  intervalMs: number;
  /** An analyzer, or options for a new one. */
  analyzer?: Analyzer | AnalyzerOptions;
  /**
   * Sets a head's WIP limit.
   * @default the head stage's own setMaxWIP
   */
  setHeadWIP?: (head: string, n: number) => unknown;
  /**
   * Passed to each RopeController.
   * @default 1.5
   */
  safetyFactor?: number;
  /**
   * Passed to the first RopeController; a re-rope starts from the old rope's length.
   * @default 1
   */
  initialRopeLength?: number;
  /**
   * The WIP each head may hold before a drum is found, so work does not flood in while the
   * analyzer is still looking: enough to keep every worker busy, so the real constraint still
   * shows. `false` leaves heads unlimited meanwhile.
   * @default 2 × the sum of every stage's workers
   */
  discoveryWIP?: number | false;
  /**
   * Elevation of the drum.
   * @default off
   */
  elevate?: ElevateOptions;
  /**
   * pino-compatible; drum changes, ropes and elevations are logged at info.
   * @default silent
   */
  logger?: FlowLogger;
  /**
   * Where the windows come from (`ManualTicker` steps them by hand).
   * @default a real, unref'd interval timer
   */
  ticker?: Ticker;
  /** Start at once; `done` settles when this aborts. */
  signal?: AbortSignal;
  /** Called after every window with its record. Errors it throws are ignored. */
  onWindow?: (record: WindowRecord) => void;
}

/** What happened in one window. */
export interface WindowRecord {
  /** The window's number (they count up from the first). */
  window: number;
  /** The analyzer's constraint. */
  constraint: string | undefined;
  /** The analyzer's confidence in it, 0..1. */
  confidence: number;
  /** The focusing step of the window. */
  step: FocusingStep;
  /** The drum the rope holds after this window, if any. */
  drum: string | undefined;
  /** The rope's length after this window, if roped. */
  ropeLength: number | undefined;
  /** The head's WIP limit after this window, if roped. */
  headLimit: number | undefined;
  /** Every stage's state this window. */
  states: Record<string, StageState>;
  /** Set when this window elevated the drum. */
  elevated?: Omit<Elevation, 'window'>;
  /** Set when this window rebuilt the rope for a new drum. */
  reroped?: {
    /** The drum before (undefined for the first rope). */
    from: string | undefined;
    /** The new drum. */
    to: string;
  };
}

/** A snapshot of autoRope. */
export interface AutoRopeStats {
  /** Windows run so far. */
  windows: number;
  /** The analyzer's constraint now. */
  constraint: string | undefined;
  /** The drum the rope holds now. */
  drum: string | undefined;
  /** The focusing step of the last window. */
  step: FocusingStep | undefined;
  /** The rope controller's stats, once a drum is roped. */
  rope: RopeStats | undefined;
  /** How many times the rope moved to a new drum (the first rope is not a migration). */
  migrations: number;
  /** Every elevation so far, oldest first. */
  elevations: Elevation[];
  /** The discovery cap in force before a drum is found (`false`: none). */
  discoveryWIP: number | false;
}
