/**
 * The flows published to the daemon (`SessionsClient.publishFlow`), kept for the dashboard and
 * `/metrics`: each flow's latest topology, a bounded history of samples for the charts, and
 * whether it is still publishing.
 *
 * A flow is `live` while samples arrive; `stale` (greyed out on the page) once none came for
 * `staleAfterIntervals` of its intervals (at least `minStaleMs`), or at once when its publisher
 * said it stopped; and it leaves the board `goneAfterMs` after that. A new sample brings a stale
 * flow back. The board checks its flows on a timer only while it holds any, so an idle daemon
 * pays nothing for it.
 */
import { EventEmitter } from 'node:events';
import { type Clock, InvalidOptionError, systemClock } from '../../proc/index.js';
import type { WireFlowPublication, WireStageSample } from '../wire/flow-publication.js';

/** A flow's state on the board. */
export type FlowState = 'live' | 'stale';

/** One point of a flow's history: when the daemon received it, and every stage's sample. */
export interface FlowPoint {
  /** When the daemon received it, ms since the epoch (the daemon's wall clock). */
  t: number;
  samples: Record<string, WireStageSample>;
}

/** A flow as the dashboard shows it. */
export interface FlowView {
  name: string;
  state: FlowState;
  intervalMs: number;
  stages: string[];
  edges: WireFlowPublication['edges'];
  drum: string | null;
  /** When the last sample arrived, ms since the epoch. */
  lastSeen: number;
  /** Oldest first, at most `maxPoints`. */
  history: FlowPoint[];
}

/** Options of `new FlowBoard`. */
export interface FlowBoardOptions {
  /** Points kept per flow for the charts. @default 600 (ten minutes at one a second) */
  maxPoints?: number;
  /** Missed intervals before a flow greys out. @default 3 */
  staleAfterIntervals?: number;
  /** A flow never greys out sooner than this after its last sample. @default 3000 */
  minStaleMs?: number;
  /** How long a greyed-out flow stays before it leaves. @default 30000 */
  goneAfterMs?: number;
  /** Most flows on the board at once; a new name beyond it is refused. @default 100 */
  maxFlows?: number;
  /** Time source, for tests. @default systemClock */
  clock?: Clock;
}

/** The board's events: a new point, a state change, a flow that left. */
export interface FlowBoardEvents {
  point: [flow: FlowView, point: FlowPoint, topologyChanged: boolean];
  state: [flow: FlowView];
  gone: [name: string];
}

interface Entry {
  view: FlowView;
  staleAt: number;
  goneAt: number;
}

/** The published flows (see the module comment). Dispose with `close()`. */
export class FlowBoard extends EventEmitter<FlowBoardEvents> {
  readonly #flows = new Map<string, Entry>();
  readonly #maxPoints: number;
  readonly #staleAfter: number;
  readonly #minStaleMs: number;
  readonly #goneAfterMs: number;
  readonly #clock: Clock;
  readonly #maxFlows: number;
  #timer: unknown;
  #closed = false;

  constructor(options: FlowBoardOptions = {}) {
    super();
    this.#maxPoints = options.maxPoints ?? 600;
    this.#staleAfter = options.staleAfterIntervals ?? 3;
    this.#minStaleMs = options.minStaleMs ?? 3000;
    this.#goneAfterMs = options.goneAfterMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
    this.#maxFlows = options.maxFlows ?? 100;
  }

  /** The flows now on the board, in the order they first published. */
  list(): FlowView[] {
    return [...this.#flows.values()].map((e) => e.view);
  }

  /** One flow, or undefined. */
  get(name: string): FlowView | undefined {
    return this.#flows.get(name)?.view;
  }

  /**
   * Records one publication (already validated). A second publisher of a name replaces it.
   * Throws `InvalidOptionError` for a new name when the board holds `maxFlows` flows.
   */
  publish(pub: WireFlowPublication): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    let entry = this.#flows.get(pub.name);
    if (!entry && this.#flows.size >= this.#maxFlows) {
      throw new InvalidOptionError(
        'flow',
        `the dashboard shows at most ${this.#maxFlows} flows; "${pub.name}" was refused`,
      );
    }
    const wall = Date.now();
    const point: FlowPoint = { t: wall, samples: pub.samples };
    let changed = false;
    if (!entry) {
      changed = true;
      entry = {
        view: {
          name: pub.name,
          state: 'live',
          intervalMs: pub.intervalMs,
          stages: pub.stages,
          edges: pub.edges,
          drum: pub.drum,
          lastSeen: wall,
          history: [],
        },
        staleAt: 0,
        goneAt: 0,
      };
      this.#flows.set(pub.name, entry);
    } else {
      const v = entry.view;
      changed =
        v.drum !== pub.drum ||
        JSON.stringify(v.stages) !== JSON.stringify(pub.stages) ||
        JSON.stringify(v.edges) !== JSON.stringify(pub.edges);
      if (JSON.stringify(v.stages) !== JSON.stringify(pub.stages)) v.history = [];
      v.stages = pub.stages;
      v.edges = pub.edges;
      v.drum = pub.drum;
      v.intervalMs = pub.intervalMs;
      v.lastSeen = wall;
    }
    const v = entry.view;
    v.history.push(point);
    if (v.history.length > this.#maxPoints) v.history.splice(0, v.history.length - this.#maxPoints);
    entry.staleAt = now + Math.max(this.#minStaleMs, this.#staleAfter * pub.intervalMs);
    entry.goneAt = entry.staleAt + this.#goneAfterMs;
    const wasStale = v.state === 'stale';
    v.state = 'live';
    this.emit('point', v, point, changed);
    if (wasStale) this.emit('state', v);
    this.#arm();
  }

  /** The publisher stopped: the flow greys out now and leaves after `goneAfterMs`. */
  unpublish(name: string): void {
    const entry = this.#flows.get(name);
    if (!entry) return;
    const now = this.#clock.now();
    entry.staleAt = now;
    entry.goneAt = now + this.#goneAfterMs;
    this.#check();
  }

  /** Stops the timer and forgets every flow. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    this.#flows.clear();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const tick = () => {
      this.#timer = undefined;
      this.#check();
      if (this.#flows.size > 0) this.#arm();
    };
    const handle = this.#clock.setTimeout(tick, 1000);
    // Never keeps the process alive: the board lives inside a daemon that has its own reasons.
    (handle as { unref?: () => void } | null)?.unref?.();
    this.#timer = handle;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const now = this.#clock.now();
    for (const [name, entry] of this.#flows) {
      if (now >= entry.goneAt) {
        this.#flows.delete(name);
        this.emit('gone', name);
      } else if (now >= entry.staleAt && entry.view.state === 'live') {
        entry.view.state = 'stale';
        this.emit('state', entry.view);
      }
    }
    if (this.#flows.size === 0) this.#disarm();
  }
}
