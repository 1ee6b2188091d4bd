/**
 * WebSockets to the daemon, same origin (the cookie carries the token). A feed socket that
 * drops is opened again after a pause, so a daemon restart only blanks the page for a moment.
 */

/** The ws:// address of a dashboard path. */
export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

let expired = false;

/**
 * A new address pasted into this tab differs only after `#`, which reloads nothing: trade the
 * token it carries for a new cookie, then reload the page.
 */
export function watchTokenInAddress(): void {
  addEventListener('hashchange', () => {
    const m = /[#&]token=([^&]+)/.exec(location.hash);
    if (!m) return;
    void fetch('/login', {
      method: 'POST',
      headers: { Authorization: `Bearer ${decodeURIComponent(m[1]!)}` },
    }).then((r) => {
      history.replaceState(null, '', '/');
      if (r.ok) location.reload();
    });
  });
}

/** Replaces the page with a note once the daemon stops accepting its token. */
function tokenExpired(): void {
  if (expired) return;
  expired = true;
  const note = document.createElement('p');
  note.setAttribute('role', 'alert');
  note.className = 'expired';
  note.textContent =
    "The daemon no longer accepts this page's token (it restarted, and makes a new token each time). Run sluice dashboard for the current address.";
  document.body.replaceChildren(note);
}

/** A JSON feed that reconnects; `send` drops messages while disconnected. */
export class Feed {
  #ws: WebSocket | undefined;
  #closed = false;

  constructor(
    readonly path: string,
    readonly onMessage: (message: Record<string, unknown>) => void,
    readonly onStatus: (connected: boolean) => void,
  ) {
    this.#open();
  }

  send(message: Record<string, unknown>): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }

  #open(): void {
    const ws = new WebSocket(wsUrl(this.path));
    this.#ws = ws;
    ws.onopen = () => this.onStatus(true);
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') this.onMessage(JSON.parse(e.data) as Record<string, unknown>);
    };
    ws.onclose = () => {
      this.onStatus(false);
      if (this.#closed) return;
      // A restarted daemon has a new token: the cookie no longer opens anything. Say so once
      // instead of retrying for ever.
      fetch('/api/flows', { method: 'HEAD' }).then(
        (r) => {
          if (r.status === 401) tokenExpired();
          else setTimeout(() => this.#open(), 1500);
        },
        () => setTimeout(() => this.#open(), 1500),
      );
    };
  }
}

/** `1.2 kB`, `3.4 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** `42s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Creates an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
