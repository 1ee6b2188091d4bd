/**
 * How a stage times its workers. Reading the clock (`performance.now()`, a native call) costs
 * 50–200 ns here — as much as a plain loop's whole step around an async no-op, and a large part
 * of a stage's per-item cost — so a stage times every call only where that is cheap relative to
 * the work or asked for:
 *
 * - every call for the next 1024 calls after two timed calls in a row took 50 µs or more (slow
 *   work, sync or async: the clock is noise next to it; one slow sample alone is as often a GC
 *   pause); every call also when `trackServiceTime` is on (the histogram needs each), where
 *   the running mean behind `fast` is still sampled as below (`trackedSample`);
 * - otherwise (a fast `fn`, sync or async) the first 16 calls and then one call in 64; each
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

const SAMPLE_EVERY = 64;
const WARMUP = 16;
/** A timed sync call this slow (ms) switches to timing every call for a while. */
const SLOW_MS = 0.05;
const SLOW_WINDOW = 1024;

export class Timing {
  /** trackServiceTime: every call's service time. */
  private readonly track: boolean;
  private slowLeft = 0;
  /**
   * Calls until the next timed one (1: the next is timed); one test per untimed call. Always 1
   * under `trackServiceTime`, so that `timeNext` needs no other test.
   */
  private countdown = 1;
  /** Under `trackServiceTime`: calls until the next sample for the running mean. */
  private sampleCountdown = 1;
  private blockedCountdown = 1;
  private samples = 0;
  /** The last timed call was slow: a second slow one in a row opens the slow window. */
  private lastSlow = false;
  /** Running means of timed service and output-blocked times (ms). */
  serviceEstimate = 0;
  /** Timed calls that have ended. */
  private timedCount = 0;
  /**
   * Untimed calls already folded into `estimatedMs`. The untimed calls ended so far are the
   * stage's `completed` minus `timedCount` (every ended call is counted in `completed`), so an
   * untimed call costs no update of its own: each counts at `serviceEstimate`, which changes only
   * when a timed call ends, so they are folded in then (or when read) at the same value as one by
   * one.
   */
  private folded = 0;
  /** Service time of the untimed calls already folded in (ms). */
  private estimatedMs = 0;
  blockedEstimate = 0;
  private blockedSamples = 0;
  /** Calls are fast: timed ones took under 50 µs on average, and no slow window is open. */
  fast = false;

  constructor(track: boolean) {
    this.track = track;
  }

  /**
   * Whether the call about to start is timed (one test for an untimed call: inlined). Always
   * true under `trackServiceTime`.
   */
  timeNext(): boolean {
    return --this.countdown > 0 ? false : this.refill();
  }

  /**
   * Under `trackServiceTime`, a call ended after `ms`: it goes into the running mean (and so
   * `fast`) when it is a sample, on the countdown an untimed stage samples by. The histogram and
   * `timedServiceMs` have every call already; the mean only decides `fast`, and one sample in 64
   * decides it as well as every call, at a fraction of the cost per item.
   */
  trackedSample(ms: number): void {
    if (--this.sampleCountdown > 0) return;
    if (this.slowLeft > 0) {
      // The slow window: every call is a sample, and the window counts down here.
      this.slowLeft--;
      this.sampleCountdown = 1;
    } else {
      this.sampleCountdown = this.samples < WARMUP ? 1 : SAMPLE_EVERY;
    }
    this.service(ms, 0);
  }

  /** The countdown ran out: this call is timed; set how many calls until the next one. */
  private refill(): true {
    if (this.track) {
      this.countdown = 1;
    } else if (this.slowLeft > 0) {
      this.countdown = 1;
      if (--this.slowLeft === 0) this.fast = this.serviceEstimate < SLOW_MS;
    } else {
      this.countdown = this.samples < WARMUP ? 1 : SAMPLE_EVERY;
    }
    return true;
  }

  /** Whether the wait of a timed result for its reader is timed. */
  timeBlocked(): boolean {
    if (--this.blockedCountdown > 0) return false;
    this.blockedCountdown = this.slowLeft > 0 || this.blockedSamples < WARMUP ? 1 : SAMPLE_EVERY;
    return true;
  }

  /**
   * The untimed calls' service time so far (ms): what `serviceTimeMs` adds to the timed sum.
   * `completed` is the stage's count of ended calls.
   */
  estimatedServiceMs(completed: number): number {
    if (this.track) return 0; // every call was timed
    return this.estimatedMs + (completed - this.timedCount - this.folded) * this.serviceEstimate;
  }

  /**
   * A timed call ended after `ms`; `completed` is the stage's count of ended calls, this one
   * included (unused under `trackServiceTime`, where there are no untimed calls to fold in).
   */
  service(ms: number, completed: number): void {
    if (!this.track) {
      this.timedCount++;
      const untimed = completed - this.timedCount - this.folded;
      if (untimed !== 0) {
        this.estimatedMs += untimed * this.serviceEstimate;
        this.folded += untimed;
      }
    }
    this.serviceEstimate =
      this.samples === 0 ? ms : this.serviceEstimate + (ms - this.serviceEstimate) / 8;
    this.samples++;
    // Two slow calls in a row, not one: a single slow sample is as likely a GC pause or the
    // process being descheduled as slow work, and each window costs 2048 clock reads.
    if (ms >= SLOW_MS) {
      if (this.lastSlow) {
        this.slowLeft = SLOW_WINDOW;
        this.countdown = 1;
        this.blockedCountdown = 1;
      }
      this.lastSlow = true;
    } else {
      this.lastSlow = false;
    }
    this.fast = this.slowLeft === 0 && this.serviceEstimate < SLOW_MS;
  }

  blocked(ms: number): void {
    this.blockedEstimate =
      this.blockedSamples === 0 ? ms : this.blockedEstimate + (ms - this.blockedEstimate) / 8;
    this.blockedSamples++;
  }
}
