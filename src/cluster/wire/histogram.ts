/**
 * Service-time histograms that travel: hdr-histogram-js (plain JS build, 2 significant digits,
 * about 1% precision) over 1 µs .. 10 min, recorded in microseconds, sent as hdr's compressed
 * base64 encoding so a coordinator can merge every worker's histogram.
 */
import { createRequire } from 'node:module';
import type * as HdrModule from 'hdr-histogram-js';
import type { ServiceTimeSummary } from '../../flow/index.js';

type Hdr = typeof HdrModule;
type Histogram = ReturnType<Hdr['build']>;
let hdrModule: Hdr | undefined;

/** hdr-histogram-js, loaded on first use (importing it costs tens of ms). */
function hdr(): Hdr {
  hdrModule ??= createRequire(import.meta.url)('hdr-histogram-js') as Hdr;
  return hdrModule;
}

const MAX_US = 10 * 60 * 1e6;

/** A service-time histogram in microseconds, with its under- and overflow counts. */
export class ServiceHistogram {
  readonly #h: Histogram;
  underflow = 0;
  overflow = 0;

  constructor() {
    this.#h = hdr().build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: MAX_US,
      numberOfSignificantValueDigits: 2,
      bitBucketSize: 32,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  /** Records one service time given in ms. */
  record(ms: number): void {
    const us = Math.round(ms * 1000);
    if (!(us >= 1)) this.underflow++;
    else if (us > MAX_US) this.overflow++;
    else this.#h.recordValue(us);
  }

  /** Adds another histogram's counts (decoded from `encode()`). */
  addEncoded(encoded: string, underflow: number, overflow: number): void {
    const other = hdr().decodeFromCompressedBase64(encoded, 32, false);
    this.#h.add(other);
    this.underflow += underflow;
    this.overflow += overflow;
  }

  /** The compressed base64 form workers publish. */
  encode(): string {
    return hdr().encodeIntoCompressedBase64(this.#h);
  }

  /** flow's summary shape, in ms. */
  summary(): ServiceTimeSummary {
    const h = this.#h;
    const n = h.totalCount;
    const ms = (us: number) => us / 1000;
    return {
      count: n,
      minMs: n > 0 ? ms(h.minNonZeroValue) : 0,
      maxMs: ms(h.maxValue),
      meanMs: ms(h.mean),
      stdDevMs: ms(h.stdDeviation),
      p50Ms: ms(h.getValueAtPercentile(50)),
      p95Ms: ms(h.getValueAtPercentile(95)),
      p99Ms: ms(h.getValueAtPercentile(99)),
      underflow: this.underflow,
      overflow: this.overflow,
    };
  }
}
