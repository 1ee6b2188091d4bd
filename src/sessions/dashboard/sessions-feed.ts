/**
 * `/ws/sessions`: the live session list for every open page, and the page's stop and remove
 * buttons. While at least one page is connected the list is read every `intervalMs` and sent
 * when it changed (so a spawned session shows within that interval); with no page open there is
 * no timer at all.
 *
 * Server → page: `{ type: 'sessions', now, sessions }` (the protocol's session info, plus the
 * daemon's clock for uptimes), `{ type: 'reply', req, ok, error? }`.
 * Page → server: `{ type: 'stop' | 'remove', id, req }`.
 */
import type { WebSocket } from 'ws';
import type { DashboardHost } from './host.js';

/** The live list's sockets and its timer. */
export class SessionsFeed {
  readonly #host: DashboardHost;
  readonly #intervalMs: number;
  readonly #log: (line: string) => void;
  readonly #clients = new Set<WebSocket>();
  #timer: NodeJS.Timeout | undefined;
  #last = '';

  constructor(host: DashboardHost, intervalMs: number, log: (line: string) => void) {
    this.#host = host;
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  /** Pages connected now. */
  get size(): number {
    return this.#clients.size;
  }

  /** Serves one page's socket until it closes. */
  add(ws: WebSocket): void {
    this.#clients.add(ws);
    ws.on('close', () => {
      this.#clients.delete(ws);
      if (this.#clients.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      void this.#command(ws, String(data));
    });
    ws.send(this.#snapshot());
    this.#timer ??= setInterval(() => this.#tick(), this.#intervalMs);
  }

  /** Closes every page's socket (the daemon is stopping). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const ws of this.#clients) ws.close(1001, 'the daemon is shutting down');
  }

  #snapshot(): string {
    const sessions = this.#host.sessions().map((s) => s.info());
    this.#last = JSON.stringify(sessions);
    return `{"type":"sessions","now":${Date.now()},"sessions":${this.#last}}`;
  }

  #tick(): void {
    const sessions = JSON.stringify(this.#host.sessions().map((s) => s.info()));
    // Running sessions' byte counts change often; uptimes are computed by the page.
    if (sessions === this.#last) return;
    this.#last = sessions;
    const text = `{"type":"sessions","now":${Date.now()},"sessions":${sessions}}`;
    for (const ws of this.#clients) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  async #command(ws: WebSocket, text: string): Promise<void> {
    let req: unknown;
    let message: { type?: unknown; id?: unknown; req?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
      req = message.req;
    } catch {
      ws.close(1003, 'expected JSON');
      return;
    }
    const reply = (ok: boolean, error?: string) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'reply', req, ok, error }));
    };
    if (typeof message.id !== 'string' || (message.type !== 'stop' && message.type !== 'remove')) {
      reply(false, "expected { type: 'stop' | 'remove', id }");
      return;
    }
    try {
      if (message.type === 'stop') await this.#host.stop(message.id);
      else await this.#host.remove(message.id);
      this.#log(`dashboard: ${message.type} ${message.id}`);
      reply(true);
      this.#tick();
    } catch (e) {
      reply(false, e instanceof Error ? e.message : String(e));
    }
  }
}
