/**
 * The service-time distribution, kept only when `trackServiceTime` is on: one HDR histogram per
 * stage (hdr-histogram-js, 2 significant digits, so about 1% precision) over 1 ns .. 10 min,
 * recorded in nanoseconds. A stage is single-threaded in Node, so toc's per-worker histograms
 * and their merge are not needed.
 *
 * hdr-histogram-js records about four times faster in its WebAssembly build than in plain JS, so
 * the first tracking stage starts loading it (asynchronously: compiling it takes 100–200 ms);
 * until it is ready a stage records into a JS histogram, then moves those counts over. WASM
 * memory is not garbage-collected: a stage frees its histogram when it finishes (keeping the
 * final summary), and a FinalizationRegistry frees those of stages dropped unfinished.
 * Internal to flow.
 */
import { createRequire } from 'node:module';
import type * as HdrModule from 'hdr-histogram-js';
import type { ServiceTimeSummary } from '../stats.js';

type Hdr = typeof HdrModule;
let hdrModule: Hdr | undefined;

/**
 * hdr-histogram-js, required on first use: importing it costs ~70 ms, which every program that
 * imports flow (and every CLI call) would pay even with `trackServiceTime` off.
 */
function hdrLib(): Hdr {
  hdrModule ??= createRequire(import.meta.url)('hdr-histogram-js') as Hdr;
  return hdrModule;
}

const MAX_NS = 10 * 60 * 1e9;
/**
 * Times under this many ns are counted in a plain array and moved into the histogram (with
 * `recordValueWithCount`) when it is read: the same histogram, at a fraction of the cost per
 * item for the fast calls that make up most of a busy stage.
 */
const SMALL_NS = 4096;

type Histogram = ReturnType<Hdr['build']>;

let wasm: 'idle' | 'loading' | 'ready' | 'failed' = 'idle';

function loadWasm(): void {
  if (wasm !== 'idle') return;
  wasm = 'loading';
  hdrLib()
    .initWebAssembly()
    .then(
      () => {
        wasm = 'ready';
      },
      () => {
        wasm = 'failed';
      },
    );
}

function build(useWebAssembly: boolean): Histogram {
  return hdrLib().build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_NS,
    numberOfSignificantValueDigits: 2,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly,
  });
}

const freeing = new FinalizationRegistry<Histogram>((h) => h.destroy());

export class ServiceTimeHistogram {
  private h: Histogram;
  private isWasm = false;
  /** This stage holds a WASM histogram it must free. */
  private wasmOwned = false;
  private underflow = 0;
  private overflow = 0;
  private final: ServiceTimeSummary | undefined;
  private readonly small = new Uint32Array(SMALL_NS);
  private smallCount = 0;

  constructor() {
    loadWasm();
    this.h = build(false);
    this.upgrade();
  }

  /** Moves to the WASM histogram once it is loaded (counts carried over); never throws. */
  private upgrade(): void {
    if (wasm !== 'ready' || this.isWasm) return;
    this.isWasm = true; // tried once: on failure the JS histogram stays
    this.flush();
    try {
      const w =
        this.h.totalCount > 0
          ? hdrLib().decodeFromCompressedBase64(
              hdrLib().encodeIntoCompressedBase64(this.h),
              32,
              true,
              MAX_NS,
            )
          : build(true);
      this.h = w;
      freeing.register(this, w, this);
      this.wasmOwned = true;
    } catch {
      // keep recording in JS
    }
  }

  /** Records one service time given in milliseconds. */
  record(ms: number): void {
    const ns = Math.round(ms * 1e6);
    // The common case first, small enough to be inlined into the worker.
    if (ns < SMALL_NS && ns >= 1) {
      this.small[ns]!++;
      // Flush long before a Uint32 count could wrap.
      if (++this.smallCount >= 1 << 30) this.flush();
    } else {
      this.recordOther(ns);
    }
  }

  private recordOther(ns: number): void {
    if (ns < 1) {
      this.underflow++;
    } else if (ns > MAX_NS) {
      this.overflow++;
    } else {
      if (!this.isWasm && wasm === 'ready') this.upgrade();
      this.h.recordValue(ns);
    }
  }

  /** Moves the small-time counts into the histogram. */
  private flush(): void {
    if (this.smallCount === 0) return;
    const small = this.small;
    for (let v = 1; v < SMALL_NS; v++) {
      const n = small[v]!;
      if (n !== 0) {
        this.h.recordValueWithCount(v, n);
        small[v] = 0;
      }
    }
    this.smallCount = 0;
  }

  /** The stage finished: keep the summary, free the histogram. */
  close(): void {
    if (this.final !== undefined) return;
    this.final = this.summary();
    if (this.wasmOwned) {
      this.wasmOwned = false;
      freeing.unregister(this);
      this.h.destroy();
    }
  }

  /**
   * The summary. `count` is the items recorded in the histogram; items under 1 ns (a clock tick
   * too fine for `performance.now()`) or over 10 minutes are counted in `underflow`/`overflow`
   * instead, so count + underflow + overflow = items whose fn ran.
   */
  summary(): ServiceTimeSummary {
    if (this.final !== undefined) return { ...this.final };
    this.flush();
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
