/**
 * The service-time distribution, kept only when `trackServiceTime` is on: one HDR histogram per
 * stage (hdr-histogram-js, 2 significant digits, so about 1% precision) over 1 ns .. 10 min,
 * recorded in nanoseconds. A stage is single-threaded in Node, so toc's per-worker histograms
 * and their merge are not needed. Internal to flow.
 */
import hdr from 'hdr-histogram-js';
import type { ServiceTimeSummary } from './stats.js';

const MAX_NS = 10 * 60 * 1e9;

export class ServiceTimeHistogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_NS,
    numberOfSignificantValueDigits: 2,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
  private underflow = 0;
  private overflow = 0;

  /** Records one service time given in milliseconds. */
  record(ms: number): void {
    const ns = Math.round(ms * 1e6);
    if (ns < 1) this.underflow++;
    else if (ns > MAX_NS) this.overflow++;
    else this.h.recordValue(ns);
  }

  /**
   * The summary. `count` is the items recorded in the histogram; items under 1 ns (a clock tick
   * too fine for `performance.now()`) or over 10 minutes are counted in `underflow`/`overflow`
   * instead, so count + underflow + overflow = items whose fn ran.
   */
  summary(): ServiceTimeSummary {
    const h = this.h;
    const count = h.totalCount;
    const ms = (ns: number) => ns / 1e6;
    return {
      count,
      minMs: count ? ms(h.minNonZeroValue) : 0,
      maxMs: count ? ms(h.maxValue) : 0,
      meanMs: count ? ms(h.mean) : 0,
      stdDevMs: count ? ms(h.stdDeviation) : 0,
      p50Ms: count ? ms(h.getValueAtPercentile(50)) : 0,
      p95Ms: count ? ms(h.getValueAtPercentile(95)) : 0,
      p99Ms: count ? ms(h.getValueAtPercentile(99)) : 0,
      underflow: this.underflow,
      overflow: this.overflow,
    };
  }
}
