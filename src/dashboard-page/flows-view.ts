/**
 * The flows view: one card per published flow (its stage graph, greyed out once it stops
 * publishing), and the selected flow's per-stage charts. Only the selected flow has charts, so
 * ten flows of ten stages cost ten small SVGs and forty charts; redraws are batched into one
 * animation frame however many points arrive.
 */
import { StageCharts } from './charts.js';
import { drawGraph } from './graph.js';
import { el, Feed } from './net.js';
import type { FlowHead, FlowJson, FlowPoint } from './types.js';

const MAX_POINTS = 600;

export class FlowsView {
  readonly root = el('section', { id: 'flows-view', 'aria-label': 'Flows' });
  readonly #cards = el('div', { class: 'flow-cards' });
  readonly #chartsHost = el('div', { class: 'flow-charts' });
  readonly #empty = el(
    'p',
    { class: 'muted' },
    'No flow is publishing. A program publishes one with client.publishFlow(name, topology).',
  );
  readonly #flows = new Map<string, FlowJson>();
  #selected: string | undefined;
  #charts: StageCharts[] = [];
  #dirty = new Set<string>();
  #frame = 0;
  #visible = false;
  readonly #feed: Feed;

  constructor(onStatus: (connected: boolean) => void) {
    this.root.append(this.#empty, this.#cards, this.#chartsHost);
    this.#feed = new Feed('/ws/flows', (m) => this.#onMessage(m), onStatus);
  }

  /** Whether the view is on screen: charts are only drawn then. */
  setVisible(visible: boolean): void {
    this.#visible = visible;
    if (visible) {
      for (const name of this.#flows.keys()) this.#dirty.add(name);
      this.#schedule();
    }
  }

  #onMessage(m: Record<string, unknown>): void {
    switch (m.type) {
      case 'flows':
        this.#flows.clear();
        for (const f of m.flows as FlowJson[]) this.#flows.set(f.name, f);
        for (const name of this.#flows.keys()) this.#dirty.add(name);
        this.#structure();
        if (this.#selected !== undefined)
          this.#feed.send({ type: 'history', name: this.#selected });
        break;
      case 'history': {
        // The whole history of the charted flow; points that came meanwhile are in it too.
        const f = this.#flows.get(m.name as string);
        if (f) {
          f.history = m.history as FlowPoint[];
          this.#dirty.add(f.name);
        }
        break;
      }
      case 'point': {
        const name = m.name as string;
        const head = m.flow as FlowHead | undefined;
        let f = this.#flows.get(name);
        if (!f || head) {
          const history =
            f && head && head.stages.join('\u0000') === f.stages.join('\u0000') ? f.history : [];
          f = { ...(head ?? f!), history };
          this.#flows.set(name, f);
          this.#structure();
        }
        const point = m.point as FlowPoint;
        f.history.push(point);
        // Only the charted flow needs its past; the others draw their graph from two points.
        const keep = name === this.#selected ? MAX_POINTS : 2;
        if (f.history.length > keep) f.history.splice(0, f.history.length - keep);
        f.lastSeen = point.t;
        f.state = 'live';
        this.#dirty.add(name);
        break;
      }
      case 'state': {
        const f = this.#flows.get(m.name as string);
        if (f) {
          f.state = m.state as FlowJson['state'];
          this.#dirty.add(f.name);
        }
        break;
      }
      case 'gone':
        this.#flows.delete(m.name as string);
        this.#structure();
        break;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#frame || !this.#visible) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#draw();
    });
  }

  /** Rebuilds the cards and the selected flow's charts after flows came or went. */
  #structure(): void {
    if (this.#selected === undefined || !this.#flows.has(this.#selected)) {
      this.#selected = this.#flows.keys().next().value;
      this.#buildCharts();
      if (this.#selected !== undefined) this.#feed.send({ type: 'history', name: this.#selected });
    }
    this.#empty.hidden = this.#flows.size > 0;
    const want = [...this.#flows.keys()];
    const have = [...this.#cards.children].map((c) => (c as HTMLElement).dataset.flow);
    if (want.join('\u0000') !== have.join('\u0000')) {
      this.#cards.replaceChildren(...want.map((n) => this.#card(n)));
    }
    for (const name of want) this.#dirty.add(name);
  }

  #card(name: string): HTMLElement {
    const card = el('article', { class: 'flow-card', 'data-flow': name, tabindex: '0' });
    const select = () => {
      if (this.#selected === name) return;
      this.#selected = name;
      this.#buildCharts();
      this.#feed.send({ type: 'history', name });
      for (const c of this.#cards.children)
        (c as HTMLElement).classList.toggle('selected', (c as HTMLElement).dataset.flow === name);
      this.#dirty.add(name);
      this.#schedule();
    };
    card.addEventListener('click', select);
    card.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') select();
    });
    if (name === this.#selected) card.classList.add('selected');
    return card;
  }

  /** Points the charts at the selected flow, reusing the charts already made (cheap). */
  #buildCharts(): void {
    const f = this.#selected === undefined ? undefined : this.#flows.get(this.#selected);
    const stages = f?.stages ?? [];
    while (this.#charts.length > stages.length) this.#charts.pop()!.dispose();
    stages.forEach((stage, i) => {
      const c = this.#charts[i];
      if (c) c.setStage(stage);
      else this.#charts.push(new StageCharts(stage));
    });
    this.#chartsHost.replaceChildren(
      ...(f ? [el('h3', {}, `Stages of ${f.name}`), ...this.#charts.map((c) => c.root)] : []),
    );
  }

  #draw(): void {
    for (const name of this.#dirty) {
      const f = this.#flows.get(name);
      const card = this.#cards.querySelector<HTMLElement>(`[data-flow="${CSS.escape(name)}"]`);
      if (!f || !card) continue;
      card.classList.toggle('stale', f.state === 'stale');
      const ago = Math.max(0, Math.round((Date.now() - f.lastSeen) / 1000));
      card.replaceChildren(
        el(
          'header',
          {},
          el('strong', {}, f.name),
          el(
            'span',
            { class: `badge ${f.state}` },
            f.state === 'live' ? 'live' : `stopped ${ago}s ago`,
          ),
          el(
            'span',
            { class: 'muted' },
            `${f.stages.length} stages · every ${f.intervalMs} ms${f.drum ? ` · drum ${f.drum}` : ''}`,
          ),
        ),
        drawGraph(f),
      );
      if (name === this.#selected) {
        if (this.#charts.length !== f.stages.length) this.#buildCharts();
        for (const c of this.#charts) c.update(f.history);
        this.#chartsHost.classList.toggle('stale', f.state === 'stale');
      }
    }
    this.#dirty.clear();
  }
}
