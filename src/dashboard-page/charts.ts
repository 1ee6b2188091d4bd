/**
 * Per-stage live charts with uPlot: throughput, WIP against its limit, queue fill over the
 * buffer zones, and service time (the mean over each interval, and the stage's running
 * percentiles). Each chart takes the flow's whole history on every update (at most 600 points),
 * so a reconnect or a late page draws the same.
 */
import uPlot from 'uplot';
import type { FlowPoint } from './types.js';
import { queueFill, RED_AT, YELLOW_AT } from './zones.js';

const WIDTH = 260;
const HEIGHT = 130;

function base(
  title: string,
  series: uPlot.Series[],
  extra: Partial<uPlot.Options> = {},
): uPlot.Options {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    cursor: { show: false },
    legend: { show: true, live: false },
    scales: { x: { time: true } },
    axes: [
      {
        size: 24,
        font: '10px system-ui',
        values: (_u, ticks) =>
          ticks.map((t) =>
            new Date(t * 1000).toLocaleTimeString([], { minute: '2-digit', second: '2-digit' }),
          ),
      },
      { size: 40, font: '10px system-ui' },
    ],
    series: [{}, ...series],
    ...extra,
  };
}

/** Colours the y-ranges of the buffer zones behind the queue-fill line. */
function zoneBands(u: uPlot): void {
  const { ctx, bbox } = u;
  const band = (from: number, to: number, colour: string) => {
    const y1 = u.valToPos(to, 'y', true);
    const y0 = u.valToPos(from, 'y', true);
    ctx.fillStyle = colour;
    ctx.fillRect(bbox.left, y1, bbox.width, y0 - y1);
  };
  ctx.save();
  band(0, YELLOW_AT * 100, 'rgba(46, 160, 67, 0.12)');
  band(YELLOW_AT * 100, RED_AT * 100, 'rgba(210, 153, 34, 0.16)');
  band(RED_AT * 100, 100, 'rgba(218, 54, 51, 0.14)');
  ctx.restore();
}

/** Charts scrolled out of view skip their redraws, and catch up when scrolled back. */
const behind = new Set<StageCharts>();
let scrollFrame = 0;
addEventListener(
  'scroll',
  () => {
    if (scrollFrame) return;
    scrollFrame = requestAnimationFrame(() => {
      scrollFrame = 0;
      for (const c of behind) c.catchUp();
    });
  },
  { passive: true },
);

function inView(e: Element): boolean {
  const r = e.getBoundingClientRect();
  return r.height > 0 && r.bottom > 0 && r.top < innerHeight;
}

/** The four charts of one stage. */
export class StageCharts {
  readonly root: HTMLElement;
  readonly #plots: uPlot[];
  readonly #heading: HTMLHeadingElement;
  #stage: string;
  #behind: FlowPoint[] | undefined;

  constructor(stage: string) {
    this.#stage = stage;
    this.root = document.createElement('div');
    this.root.className = 'stage-charts';
    this.root.dataset.stage = stage;
    this.#heading = document.createElement('h4');
    this.#heading.textContent = stage;
    this.root.append(this.#heading);
    const empty: uPlot.AlignedData = [[], []];
    this.#plots = [
      new uPlot(
        base('throughput (items/s)', [
          { label: 'done/s', stroke: '#1f6feb', width: 1.5 },
          { label: 'failed/s', stroke: '#da3633', width: 1 },
        ]),
        [[], [], []],
        this.root,
      ),
      new uPlot(
        base('WIP vs limit', [
          { label: 'WIP', stroke: '#8250df', width: 1.5 },
          { label: 'limit', stroke: '#555', dash: [4, 3], width: 1 },
        ]),
        [[], [], []],
        this.root,
      ),
      new uPlot(
        base('queue fill (%)', [{ label: 'fill', stroke: '#9a6700', width: 1.5 }], {
          scales: { x: { time: true }, y: { range: [0, 100] } },
          hooks: { drawClear: [zoneBands] },
        }),
        empty,
        this.root,
      ),
      new uPlot(
        base('service time (ms)', [
          // Per interval: busy time over the items finished in it (exact for the window).
          { label: 'mean', stroke: '#1f6feb', width: 2 },
          // The stage's running distribution (since it started), where it tracks one.
          { label: 'p50', stroke: '#2da44e', width: 1, dash: [3, 2] },
          { label: 'p95', stroke: '#bf8700', width: 1, dash: [3, 2] },
          { label: 'p99', stroke: '#cf222e', width: 1, dash: [3, 2] },
        ]),
        [[], [], [], [], []],
        this.root,
      ),
    ];
  }

  /** Shows another stage (of another flow) in the same charts; `update` draws its data. */
  setStage(stage: string): void {
    this.#stage = stage;
    this.root.dataset.stage = stage;
    delete this.root.dataset.points;
    this.#heading.textContent = stage;
  }

  /** Redraws from the flow's history (later, if the charts are scrolled out of view). */
  update(history: FlowPoint[]): void {
    if (!inView(this.root)) {
      this.#behind = history;
      behind.add(this);
      return;
    }
    this.#behind = undefined;
    behind.delete(this);
    this.#draw(history);
  }

  /** Draws what it skipped while out of view, once it is in view. */
  catchUp(): void {
    if (this.#behind && inView(this.root)) this.update(this.#behind);
  }

  #draw(history: FlowPoint[]): void {
    const name = this.#stage;
    const points = history.filter((p) => p.samples[name]);
    const t: number[] = [];
    const done: (number | null)[] = [];
    const failed: (number | null)[] = [];
    const wip: number[] = [];
    const limit: number[] = [];
    const fill: number[] = [];
    const mean: (number | null)[] = [];
    const p50: (number | null)[] = [];
    const p95: (number | null)[] = [];
    const p99: (number | null)[] = [];
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const s = p.samples[name]!;
      const prev = points[i - 1];
      t.push(p.t / 1000);
      if (prev && p.t > prev.t) {
        const ps = prev.samples[name]!;
        const secs = (p.t - prev.t) / 1000;
        const finished = s.completed - ps.completed;
        done.push(Math.max(0, finished / secs));
        failed.push(Math.max(0, (s.failed - ps.failed) / secs));
        mean.push(finished > 0 ? (s.serviceTimeMs - ps.serviceTimeMs) / finished : null);
      } else {
        done.push(null);
        failed.push(null);
        mean.push(null);
      }
      wip.push(s.wip);
      limit.push(s.wipLimit);
      fill.push(queueFill(s) * 100);
      p50.push(s.serviceTime?.p50Ms ?? null);
      p95.push(s.serviceTime?.p95Ms ?? null);
      p99.push(s.serviceTime?.p99Ms ?? null);
    }
    const [a, b, c, d] = this.#plots as [uPlot, uPlot, uPlot, uPlot];
    a.setData([t, done, failed]);
    b.setData([t, wip, limit]);
    c.setData([t, fill]);
    d.setData([t, mean, p50, p95, p99]);
    this.root.dataset.points = String(t.length);
  }

  dispose(): void {
    behind.delete(this);
    for (const p of this.#plots) p.destroy();
  }
}
