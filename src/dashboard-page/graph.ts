/**
 * A flow's stage graph as SVG: stages in columns by their depth (the longest path from a head),
 * edges as arrows, each box tinted by its queue's buffer zone, the drum drawn with a thick
 * border and labelled. Without a declared drum, the busiest stage of the last interval is
 * outlined with a dashed border instead ("busiest": a hint, not a finding).
 */

import type { FlowJson, FlowPoint, StageSample } from './types.js';
import { zoneOf } from './zones.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 132;
const H = 44;
const GAP_X = 46;
const GAP_Y = 14;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Utilization of each stage over the last interval: busy time / (elapsed × workers). */
export function utilization(
  prev: FlowPoint | undefined,
  last: FlowPoint | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  if (!prev || !last || last.t <= prev.t) return out;
  for (const [name, s] of Object.entries(last.samples)) {
    const p = prev.samples[name];
    if (!p) continue;
    const busy = s.serviceTimeMs - p.serviceTimeMs;
    out.set(name, busy / ((last.t - prev.t) * Math.max(1, s.workers)));
  }
  return out;
}

type Point = { x: number; y: number };

/** Draws `flow`'s graph. */
export function drawGraph(flow: FlowJson): SVGSVGElement {
  const { pos, width, height } = layout(flow);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
  root.setAttribute('aria-label', `stage graph of ${flow.name}`);
  root.append(arrowDefs());
  for (const e of flow.edges) drawEdge(root, pos.get(e.from)!, pos.get(e.to)!, e.ratio);
  const last = flow.history.at(-1);
  const busiest = flow.drum ? undefined : busiestStage(utilization(flow.history.at(-2), last));
  for (const name of flow.stages) {
    const role = name === flow.drum ? 'drum' : name === busiest ? 'busiest' : undefined;
    root.append(drawStage(name, pos.get(name)!, last?.samples[name], role));
  }
  return root;
}

/**
 * Where each stage's box goes: one column per depth (the longest path from a head), stages of
 * one depth one under another; and the size of the whole drawing.
 */
function layout(flow: FlowJson): { pos: Map<string, Point>; width: number; height: number } {
  const depth = new Map<string, number>(flow.stages.map((s) => [s, 0]));
  // Longest path by relaxation; the topology is acyclic (the daemon checked it), so stages
  // count of rounds suffices.
  for (let round = 0; round < flow.stages.length; round++) {
    let moved = false;
    for (const e of flow.edges) {
      const d = depth.get(e.from)! + 1;
      if (d > depth.get(e.to)!) {
        depth.set(e.to, d);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const columns = new Map<number, string[]>();
  for (const s of flow.stages) {
    const d = depth.get(s)!;
    columns.set(d, [...(columns.get(d) ?? []), s]);
  }
  const pos = new Map<string, Point>();
  let maxRows = 1;
  for (const [d, names] of columns) {
    maxRows = Math.max(maxRows, names.length);
    names.forEach((n, i) => {
      pos.set(n, { x: 8 + d * (W + GAP_X), y: 22 + i * (H + GAP_Y) });
    });
  }
  const width = 16 + columns.size * (W + GAP_X) - GAP_X;
  const height = 30 + maxRows * (H + GAP_Y);
  return { pos, width, height };
}

/** The arrowhead marker every edge ends with. */
function arrowDefs(): SVGDefsElement {
  const defs = svg('defs', {});
  const marker = svg('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto',
  });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#667' }));
  defs.append(marker);
  return defs;
}

/** An arrow from box `a` to box `b`, labelled with its ratio when that is not 1. */
function drawEdge(root: SVGSVGElement, a: Point, b: Point, ratio: number): void {
  const x1 = a.x + W;
  const y1 = a.y + H / 2;
  const x2 = b.x;
  const y2 = b.y + H / 2;
  const mid = (x1 + x2) / 2;
  root.append(
    svg('path', {
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 2},${y2}`,
      fill: 'none',
      stroke: '#667',
      'stroke-width': 1.5,
      'marker-end': 'url(#arrow)',
    }),
  );
  if (ratio !== 1) {
    const t = svg('text', {
      x: mid,
      y: (y1 + y2) / 2 - 4,
      'text-anchor': 'middle',
      class: 'ratio',
    });
    t.textContent = `×${ratio}`;
    root.append(t);
  }
}

/** The stage busiest over the last interval, if any was busy more than half the time. */
function busiestStage(util: Map<string, number>): string | undefined {
  let busiest: string | undefined;
  let best = 0.5;
  for (const [name, u] of util) {
    if (u > best) {
      best = u;
      busiest = name;
    }
  }
  return busiest;
}

/** One stage's box: tinted by its zone, its name, WIP and queue, a tag for the drum or busiest. */
function drawStage(
  name: string,
  p: Point,
  s: StageSample | undefined,
  role: 'drum' | 'busiest' | undefined,
): SVGGElement {
  const zone = s ? zoneOf(s) : 'none';
  const g = svg('g', { class: `stage zone-${zone}`, 'data-stage': name });
  g.append(
    svg('rect', {
      x: p.x,
      y: p.y,
      width: W,
      height: H,
      rx: 6,
      class: role ?? '',
    }),
  );
  const label = svg('text', {
    x: p.x + W / 2,
    y: p.y + 18,
    'text-anchor': 'middle',
    class: 'name',
  });
  label.textContent = name.length > 18 ? `${name.slice(0, 17)}…` : name;
  const info = svg('text', {
    x: p.x + W / 2,
    y: p.y + 34,
    'text-anchor': 'middle',
    class: 'info',
  });
  info.textContent = s ? `WIP ${s.wip}/${s.wipLimit} · q ${s.queueLength}` : '';
  g.append(label, info);
  if (role !== undefined) {
    const tag = svg('text', {
      x: p.x + W / 2,
      y: p.y - 5,
      'text-anchor': 'middle',
      class: `${role}-tag`,
    });
    tag.textContent = role === 'drum' ? '◆ drum' : 'busiest';
    g.append(tag);
  }
  const title = svg('title', {});
  title.textContent = s
    ? `${name}: ${s.completed} done, ${s.failed} failed, WIP ${s.wip} of ${s.wipLimit}, queue ${s.queueLength} of ${s.queueCapacity}`
    : name;
  g.append(title);
  return g;
}
