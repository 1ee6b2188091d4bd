/**
 * The sessions view: the live list (filterable by originator) with stop and remove buttons,
 * and, below it, the session opened by a click (a terminal for a PTY, text for pipes).
 */
import { el, Feed, formatBytes, formatDuration } from './net.js';
import { SessionPanel } from './session-panel.js';
import { exitOf, type SessionJson } from './types.js';

const COLUMNS = [
  'ID',
  'Command',
  'Kind',
  'State',
  'Outcome',
  'Originator',
  'Uptime',
  'Bytes',
  'Dropped',
  'Attached',
  '',
];

export class SessionsView {
  readonly root = el('section', { id: 'sessions-view', 'aria-label': 'Sessions' });
  readonly #filter = el('select', {
    id: 'originator-filter',
    'aria-label': 'Filter by originator',
  });
  readonly #count = el('span', { class: 'muted', id: 'session-count' });
  readonly #tbody = el('tbody');
  readonly #panelHost = el('div', { id: 'session-panel-host' });
  readonly #feed: Feed;
  #sessions: SessionJson[] = [];
  #skew = 0;
  #selected: string | undefined;
  #panel: SessionPanel | undefined;
  #nextReq = 1;

  constructor(onStatus: (connected: boolean) => void) {
    this.#filter.append(el('option', { value: '' }, 'all originators'));
    this.#filter.addEventListener('change', () => this.#render());
    const head = el('tr');
    for (const c of COLUMNS) head.append(el('th', { scope: 'col' }, c));
    this.root.append(
      el('div', { class: 'toolbar' }, el('label', {}, 'Originator ', this.#filter), this.#count),
      el('table', { class: 'sessions', id: 'sessions-table' }, el('thead', {}, head), this.#tbody),
      this.#panelHost,
    );
    this.#feed = new Feed('/ws/sessions', (m) => this.#onMessage(m), onStatus);
    setInterval(() => this.#tickUptimes(), 1000);
  }

  #onMessage(m: Record<string, unknown>): void {
    if (m.type === 'sessions') {
      this.#sessions = m.sessions as SessionJson[];
      this.#skew = Date.now() - (m.now as number);
      this.#render();
    } else if (m.type === 'reply' && m.ok === false) {
      alert(`The daemon refused: ${String(m.error)}`);
    }
  }

  #render(): void {
    const originators = [...new Set(this.#sessions.map((s) => s.originator))].sort();
    const current = this.#filter.value;
    const have = [...this.#filter.options].map((o) => o.value).slice(1);
    if (have.join('\u0000') !== originators.join('\u0000')) {
      this.#filter.replaceChildren(el('option', { value: '' }, 'all originators'));
      for (const o of originators) this.#filter.append(el('option', { value: o }, o || '(none)'));
      this.#filter.value = originators.includes(current) ? current : '';
    }
    const shown = this.#sessions.filter(
      (s) => this.#filter.value === '' || s.originator === this.#filter.value,
    );
    this.#count.textContent = `${shown.length} of ${this.#sessions.length} sessions`;
    this.#tbody.replaceChildren(...shown.map((s) => this.#row(s)));
    const open = this.#sessions.find((s) => s.id === this.#selected);
    if (this.#panel && open) this.#panel.update(open);
    if (this.#panel && !open) this.#closePanel('This session was removed.');
  }

  #row(s: SessionJson): HTMLTableRowElement {
    const streams = Object.values(s.attachments);
    const bytes = streams.reduce((n, a) => n + a.bytes, 0);
    const dropped = streams.reduce((n, a) => n + a.dropped, 0);
    const writers = streams.filter((a) => a.writer).length;
    const viewers = streams.reduce((n, a) => n + a.viewers, 0);
    const exit = exitOf(s);
    const state = exit ? `exited (${exit.signal ?? exit.exitCode})` : 'running';
    const stop = el('button', { type: 'button', class: 'stop' }, 'Stop');
    stop.disabled = s.state !== 'running';
    stop.addEventListener('click', (e) => {
      e.stopPropagation();
      if (
        confirm(
          `Stop session ${s.id} (${s.command})?\nIt gets SIGTERM, then SIGKILL after the grace.`,
        )
      ) {
        this.#feed.send({ type: 'stop', id: s.id, req: this.#nextReq++ });
      }
    });
    const remove = el('button', { type: 'button', class: 'remove' }, 'Remove');
    remove.addEventListener('click', (e) => {
      e.stopPropagation();
      const warn = s.state === 'running' ? '\nIt is still running: it will be killed first.' : '';
      if (confirm(`Remove session ${s.id} (${s.command}) and its backlog?${warn}`)) {
        this.#feed.send({ type: 'remove', id: s.id, req: this.#nextReq++ });
      }
    });
    const tr = el(
      'tr',
      {
        'data-id': s.id,
        class: `${s.state}${s.id === this.#selected ? ' selected' : ''}`,
        tabindex: '0',
      },
      el('td', { class: 'id' }, s.id),
      el('td', { class: 'command', title: s.cwd }, s.command),
      el('td', {}, s.kind),
      el('td', { class: 'state' }, state),
      el('td', {}, exit?.outcome ?? '–'),
      el('td', {}, s.originator || '–'),
      el('td', { class: 'uptime', 'data-created': String(s.createdAt) }, this.#uptime(s)),
      el('td', { class: 'num' }, formatBytes(bytes)),
      el('td', { class: 'num' }, formatBytes(dropped)),
      el('td', { class: 'num', title: 'writer + read-only viewers' }, `${writers} + ${viewers}`),
      el('td', { class: 'actions' }, stop, remove),
    );
    const open = () => this.#open(s);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') open();
    });
    return tr;
  }

  #uptime(s: SessionJson): string {
    const exit = exitOf(s);
    const end = exit ? exit.exitedAt : Date.now() - this.#skew;
    return formatDuration(end - s.createdAt);
  }

  #tickUptimes(): void {
    for (const s of this.#sessions) {
      if (s.state !== 'running') continue;
      const cell = this.#tbody.querySelector(`tr[data-id="${s.id}"] .uptime`);
      if (cell) cell.textContent = this.#uptime(s);
    }
  }

  #open(s: SessionJson): void {
    if (this.#selected === s.id) return;
    this.#panel?.dispose();
    this.#selected = s.id;
    this.#panel = new SessionPanel(s);
    this.#panelHost.replaceChildren(this.#panel.root);
    for (const tr of this.#tbody.querySelectorAll('tr')) {
      tr.classList.toggle('selected', tr.dataset.id === s.id);
    }
  }

  #closePanel(message: string): void {
    this.#panel?.dispose();
    this.#panel = undefined;
    this.#selected = undefined;
    this.#panelHost.replaceChildren(el('p', { class: 'muted' }, message));
  }
}
