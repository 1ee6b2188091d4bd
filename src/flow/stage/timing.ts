/**
 * How a stage times its workers. Reading the clock (`performance.now()`, a native call) costs
 * 80–200 ns here — more than a no-op `fn` and most of a stage's per-item cost — so a stage times
 * every call only where that is cheap relative to the work or asked for:
 *
 * - every call for the next 1024 calls after a timed call took 50 µs or more (slow work, sync or
 *   async: the clock is noise next to it); every call also when `trackServiceTime` is on (the
 *   histogram needs each);
 * - otherwise (a fast `fn`, sync or async) the first 16 calls and then one call in 16; each
 *   untimed call adds the running mean (EWMA, 1/8) of the timed ones to `serviceTimeMs`. A
 *   result's wait for a reader is sampled the same way, on its own count, and untimed waits add
 *   the running mean of the timed ones to `outputBlockedTimeMs`.
 *
 * An async call is timed from the moment `fn` is called to the moment its promise settled and
 * the stage saw it (the microtask that delivers it included).
 *
 * Idle time is not clocked at all: it is what is left of the workers' lifetimes (see
 * `StageCore.idleTime`). Internal to flow.
 */

const SAMPLE_EVERY = 16;
const WARMUP = 16;
/** A timed sync call this slow (ms) switches to timing every call for a while. */
const SLOW_MS = 0.05;
const SLOW_WINDOW = 1024;

export class Timing {
  /** trackServiceTime: every call's service time. */
  private readonly track: boolean;
  private slowLeft = 0;
  private countdown = 1;
  private blockedCountdown = 1;
  private samples = 0;
  /** Running means of timed service and output-blocked times (ms). */
  serviceEstimate = 0;
  blockedEstimate = 0;
  private blockedSamples = 0;

  constructor(track: boolean) {
    this.track = track;
  }

  /** Whether the call about to start is timed. */
  timeNext(): boolean {
    if (this.track) return true;
    if (this.slowLeft > 0) {
      this.slowLeft--;
      return true;
    }
    if (this.samples < WARMUP || --this.countdown <= 0) {
      this.countdown = SAMPLE_EVERY;
      return true;
    }
    return false;
  }

  /** Whether the wait of a timed result for its reader is timed. */
  timeBlocked(): boolean {
    if (this.slowLeft > 0) return true;
    if (this.blockedSamples < WARMUP || --this.blockedCountdown <= 0) {
      this.blockedCountdown = SAMPLE_EVERY;
      return true;
    }
    return false;
  }

  service(ms: number): void {
    this.serviceEstimate =
      this.samples === 0 ? ms : this.serviceEstimate + (ms - this.serviceEstimate) / 8;
    this.samples++;
    if (ms >= SLOW_MS) this.slowLeft = SLOW_WINDOW;
  }

  blocked(ms: number): void {
    this.blockedEstimate =
      this.blockedSamples === 0 ? ms : this.blockedEstimate + (ms - this.blockedEstimate) / 8;
    this.blockedSamples++;
  }
}
