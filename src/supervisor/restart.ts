/**
 * The restart policy: when a supervised child exits without being asked to, whether to start it
 * again and after how long. Pure bookkeeping over an injectable clock, so its rules are tested
 * exactly without waiting on real time.
 */
import { InvalidOptionError } from '../proc/index.js';

/**
 * When and how often to restart. Restarts are off unless `supervise()` is given a `restart`
 * object; every field has a default.
 */
export interface RestartPolicy {
  /**
   * Give up once this many restarts have happened without the child staying up `minUptimeMs`
   * (and, with `windowMs`, within that window); 0 never restarts.
   * @default 10
   */
  maxRestarts?: number;
  /**
   * The delay before the first restart; each further one is `factor` times longer.
   * @default 100
   */
  backoffMs?: number;
  /**
   * The delay never grows past this.
   * @default 30000
   */
  maxBackoffMs?: number;
  /**
   * A run that lasted at least this long counts as healthy: the restart count and the backoff
   * start over.
   * @default 1000
   */
  minUptimeMs?: number;
  /**
   * Only restarts within this many ms count toward `maxRestarts` (systemd's
   * `StartLimitIntervalSec`).
   * @default Infinity (every restart since the last healthy run counts)
   */
  windowMs?: number;
  /**
   * The growth factor of the backoff.
   * @default 2
   */
  factor?: number;
  /**
   * `'always'` restarts after any exit it did not ask for (pm2's autorestart); `'on-failure'`
   * only after a non-zero code or a signal (systemd's `Restart=on-failure`).
   * @default 'always'
   */
  when?: 'always' | 'on-failure';
}

/** The policy with its defaults filled in. */
export type ResolvedRestartPolicy = Required<RestartPolicy>;

/** What to do after an exit. */
export type RestartDecision =
  | {
      /** Start the child again, after `delayMs`. */
      restart: true;
      /** 1 for the first restart since the last healthy run. */
      attempt: number;
      /** How long to wait before the restart, in milliseconds (the backoff, capped at `maxBackoffMs`). */
      delayMs: number;
    }
  | {
      /** Do not restart: the child is done. */
      restart: false;
      /** `clean-exit`: a successful exit under `when: 'on-failure'`; `gave-up`: `maxRestarts` was reached. */
      reason: 'clean-exit' | 'gave-up';
      /** Restarts since the last healthy run. */
      attempt: number;
    };

/** Returns the policy with its defaults; throws `InvalidOptionError` naming a bad field. */
export function resolvePolicy(p: RestartPolicy): ResolvedRestartPolicy {
  const r: ResolvedRestartPolicy = {
    maxRestarts: p.maxRestarts ?? 10,
    backoffMs: p.backoffMs ?? 100,
    maxBackoffMs: p.maxBackoffMs ?? 30_000,
    minUptimeMs: p.minUptimeMs ?? 1000,
    windowMs: p.windowMs ?? Number.POSITIVE_INFINITY,
    factor: p.factor ?? 2,
    when: p.when ?? 'always',
  };
  if (!Number.isSafeInteger(r.maxRestarts) || r.maxRestarts < 0) {
    throw new InvalidOptionError(
      `restart.maxRestarts`,
      `must be an integer >= 0, got ${r.maxRestarts}`,
    );
  }
  for (const key of ['backoffMs', 'maxBackoffMs', 'minUptimeMs'] as const) {
    if (!(Number.isFinite(r[key]) && r[key] >= 0)) {
      throw new InvalidOptionError(`restart.${key}`, `must be a finite number >= 0, got ${r[key]}`);
    }
  }
  if (!(r.windowMs > 0))
    throw new InvalidOptionError(`restart.windowMs`, `must be > 0, got ${r.windowMs}`);
  if (!(Number.isFinite(r.factor) && r.factor >= 1)) {
    throw new InvalidOptionError(`restart.factor`, `must be a finite number >= 1, got ${r.factor}`);
  }
  if (r.when !== 'always' && r.when !== 'on-failure') {
    throw new InvalidOptionError(
      `restart.when`,
      `must be 'always' or 'on-failure', got ${String(r.when)}`,
    );
  }
  return r;
}

/**
 * The restart budget of one supervised child. `onExit` is called once per unrequested exit (or
 * failed restart) with the run's start and end on the policy's clock, and says what to do.
 *
 * Rules: a run of at least `minUptimeMs` resets the count and the backoff. Otherwise the n-th
 * restart since the last reset waits `min(backoffMs × factor^(n-1), maxBackoffMs)`. When
 * `maxRestarts` restarts already happened since the last reset (within `windowMs`, if set), it
 * gives up.
 */
export class RestartBudget {
  /** The policy with every default filled in; fixed at construction. */
  readonly policy: ResolvedRestartPolicy;
  #attempt = 0;
  #history: number[] = [];

  constructor(policy: RestartPolicy) {
    this.policy = resolvePolicy(policy);
  }

  /** Restarts since the last healthy run. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Records one exit and says whether to restart. `startedAt` and `exitedAt` are the run's start
   * and end on the policy's clock, in milliseconds; `failed` is a non-zero code or a signal.
   */
  onExit(startedAt: number, exitedAt: number, failed: boolean): RestartDecision {
    const p = this.policy;
    if (exitedAt - startedAt >= p.minUptimeMs) {
      this.#attempt = 0;
      this.#history = [];
    }
    if (!failed && p.when === 'on-failure') {
      return { restart: false, reason: 'clean-exit', attempt: this.#attempt };
    }
    const since = exitedAt - p.windowMs;
    this.#history = this.#history.filter((t) => t > since);
    if (this.#history.length >= p.maxRestarts) {
      return { restart: false, reason: 'gave-up', attempt: this.#attempt };
    }
    this.#attempt++;
    this.#history.push(exitedAt);
    const delayMs = Math.min(p.backoffMs * p.factor ** (this.#attempt - 1), p.maxBackoffMs);
    return { restart: true, attempt: this.#attempt, delayMs };
  }
}
