/**
 * `/ws/flows`: the published flows for every open page. A page gets every flow with its last
 * two points when it connects (enough to draw its graph), the whole history of a flow when it
 * asks (the one it charts), then each new point as it arrives and each state change; with no
 * page open the feed does not listen to the board at all. Ten flows of ten stages with ten
 * minutes of history are about 15 MB of JSON: a page fetches only what it draws.
 *
 * Server → page: `{ type: 'flows', flows }` (every `FlowView`, history cut to two points),
 * `{ type: 'history', name, history }`, `{ type: 'point', name, point, flow? }` (`flow` without
 * its history when the topology changed), `{ type: 'state', name, state }`, `{ type: 'gone',
 * name }`. Page → server: `{ type: 'history', name }`.
 */
import type { WebSocket } from 'ws';
import type { FlowBoard, FlowPoint, FlowView } from './flow-board.js';

/** The flow pages' sockets. */
export class FlowsFeed {
  readonly #board: FlowBoard;
  readonly #clients = new Set<WebSocket>();
  readonly #onPoint = (flow: FlowView, point: FlowPoint, changed: boolean) => {
    const { history: _, ...head } = flow;
    this.#broadcast({ type: 'point', name: flow.name, point, flow: changed ? head : undefined });
  };
  readonly #onState = (flow: FlowView) =>
    this.#broadcast({ type: 'state', name: flow.name, state: flow.state });
  readonly #onGone = (name: string) => this.#broadcast({ type: 'gone', name });

  constructor(board: FlowBoard) {
    this.#board = board;
  }

  /** Serves one page's socket until it closes. */
  add(ws: WebSocket): void {
    if (this.#clients.size === 0) {
      this.#board.on('point', this.#onPoint).on('state', this.#onState).on('gone', this.#onGone);
    }
    this.#clients.add(ws);
    ws.on('close', () => {
      this.#clients.delete(ws);
      if (this.#clients.size === 0) {
        this.#board
          .off('point', this.#onPoint)
          .off('state', this.#onState)
          .off('gone', this.#onGone);
      }
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let m: { type?: unknown; name?: unknown };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        ws.close(1003, 'expected JSON');
        return;
      }
      if (m.type !== 'history' || typeof m.name !== 'string') return;
      const flow = this.#board.get(m.name);
      if (flow && ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'history', name: flow.name, history: flow.history }));
      }
    });
    const flows = this.#board.list().map((f) => ({ ...f, history: f.history.slice(-2) }));
    ws.send(JSON.stringify({ type: 'flows', flows }));
  }

  /** Closes every page's socket. */
  close(): void {
    for (const ws of this.#clients) ws.close(1001, 'the daemon is shutting down');
  }

  #broadcast(message: Record<string, unknown>): void {
    const text = JSON.stringify(message);
    for (const ws of this.#clients) if (ws.readyState === ws.OPEN) ws.send(text);
  }
}
