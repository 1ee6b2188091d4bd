/**
 * A session's restarts: the supervisor's restart budget over the session's runs, the count, the
 * last run's exit, the timer between two runs and the marker lines that go into the output.
 */
import type { ExitInfo } from '../../proc/index.js';
import { RestartBudget, type RestartPolicy } from '../../supervisor/index.js';

/** What to do after a run ended. */
export type RestartStep =
  | { restart: true; delayMs: number; marker: string }
  | { restart: false; marker: string | undefined };

function describeRun(info: ExitInfo): string {
  return info.signal ? `killed by ${info.signal}` : `exited with code ${info.exitCode}`;
}

/**
 * One session's restart bookkeeping. `ended` decides, `wait` holds the timer until the next
 * run, `cancel` drops it (a stop or a removal between two runs); `started` marks a new run.
 */
export class SessionRestarts {
  readonly #budget: RestartBudget;
  #count = 0;
  #runStartedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;

  /** Throws `InvalidOptionError` naming a bad field of the policy. */
  constructor(policy: RestartPolicy) {
    this.#budget = new RestartBudget(policy);
  }

  /** Restarts made so far. */
  get count(): number {
    return this.#count;
  }

  /** Whether the session is between two runs, waiting for the next. */
  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  /** A run ended with `info`: restart (after `delayMs`) or not, and the marker line to write. */
  ended(info: ExitInfo): RestartStep {
    const failed = info.exitCode !== 0 || info.signal !== null;
    const decision = this.#budget.onExit(this.#runStartedAt, Date.now(), failed);
    const how = describeRun(info);
    if (decision.restart) {
      this.#count++;
      const marker = `[sluice: ${how}; restart ${this.#count} in ${Math.round(decision.delayMs)} ms]`;
      return { restart: true, delayMs: decision.delayMs, marker };
    }
    if (decision.reason === 'clean-exit') return { restart: false, marker: undefined };
    const p = this.#budget.policy;
    return {
      restart: false,
      marker: `[sluice: ${how}; not restarting: ${p.maxRestarts} restarts in a row without staying up ${p.minUptimeMs} ms]`,
    };
  }

  /** Runs `next` after `delayMs`, unless cancelled first. */
  wait(delayMs: number, next: () => void): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      next();
    }, delayMs);
  }

  /** Drops a pending restart; true when one was pending. */
  cancel(): boolean {
    if (!this.#timer) return false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return true;
  }

  /** A new run started now (its uptime counts from here). */
  started(): void {
    this.#runStartedAt = Date.now();
  }
}
