/**
 * Publishing a flow to the daemon (`SessionsClient.publishFlow`): every `intervalMs` the
 * publisher reads every stage's stats through the flow's `Topology` and sends the stage graph,
 * the drum and one sample per stage, for the dashboard's charts and `/metrics`.
 *
 * Guarantees: the first sample is sent before `publishFlow` resolves (so a refused or unreadable
 * flow fails there, with nothing left running); later sends never overlap (a tick whose previous
 * send is still under way is skipped); a failed send or stats read never throws into the
 * program: it is kept in `lastError` and the next tick tries again. The timer does not keep the
 * process alive. `stop()` (or `await using`) ends the timer and tells the daemon, which greys the
 * flow out at once; the flow's stages are the caller's and are never touched.
 */
import type { Stats, Topology } from '../../flow/index.js';
import { InvalidOptionError } from '../../proc/index.js';
import {
  MAX_FLOW_NAME,
  MAX_FLOW_STAGES,
  type WireFlowPublication,
  type WireStageSample,
} from '../wire/flow-publication.js';

/** Options of `SessionsClient.publishFlow`. */
export interface PublishFlowOptions {
  /** How often a sample is sent, in ms (at least 10). @default 1000 */
  intervalMs?: number;
  /**
   * The drum, marked on the dashboard's graph: a stage name, or a function read at every sample
   * (for example `() => rope.stats().drum` with autoRope). @default none: the page then marks
   * the busiest stage as a hint
   */
  drum?: string | (() => string | undefined);
}

/** What the publisher needs from the client: send one sample, and say it stopped. */
export interface PublishTransport {
  /**
   * Sends one sample of the flow. A rejection of the first one fails `start`; later ones are kept
   * as `lastError` and the next sample is sent anyway.
   */
  publish(flow: WireFlowPublication): Promise<unknown>;
  /** Says the flow named `name` stopped; called once, by `stop()`, which ignores a rejection. */
  unpublish(name: string): Promise<unknown>;
}

/** One stage's stats as the wire sample. */
export function stageSample(s: Stats): WireStageSample {
  const d = s.serviceTimeDist;
  return {
    submitted: s.submitted,
    completed: s.completed,
    failed: s.failed,
    wip: s.admitted,
    wipLimit: s.maxWIP,
    queueLength: s.bufferedDepth,
    queueCapacity: s.queueCapacity,
    workers: s.activeWorkers,
    serviceTimeMs: s.serviceTimeMs,
    serviceTime: d ? { count: d.count, p50Ms: d.p50Ms, p95Ms: d.p95Ms, p99Ms: d.p99Ms } : null,
  };
}

/** A flow being published. Stop it with `stop()` or `await using`. */
export class FlowPublisher implements AsyncDisposable {
  /** The name the flow is published under. */
  readonly name: string;
  /** Milliseconds between two samples. */
  readonly intervalMs: number;
  readonly #topology: Topology;
  readonly #drum: PublishFlowOptions['drum'];
  readonly #transport: PublishTransport;
  readonly #stages: string[];
  readonly #edges: WireFlowPublication['edges'];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #sent = 0;
  #lastError: Error | undefined;

  private constructor(
    name: string,
    topology: Topology,
    options: PublishFlowOptions,
    transport: PublishTransport,
  ) {
    this.name = name;
    this.intervalMs = options.intervalMs ?? 1000;
    this.#topology = topology;
    this.#drum = options.drum;
    this.#transport = transport;
    this.#stages = topology.stages();
    this.#edges = this.#stages.flatMap((to) =>
      topology.incoming(to).map((e) => ({ from: e.from, to, ratio: e.ratio })),
    );
  }

  /**
   * Checks the arguments, sends the first sample and starts the timer. Throws
   * `InvalidOptionError` for an empty or too long name, an interval under 10 ms, a topology that
   * is not frozen or has more than 256 stages, or a drum that is not one of its stages; rejects
   * with the daemon's error when it refuses the first sample. Nothing runs after a failure.
   */
  static async start(
    name: string,
    topology: Topology,
    options: PublishFlowOptions,
    transport: PublishTransport,
  ): Promise<FlowPublisher> {
    if (typeof name !== 'string' || name === '' || name.length > MAX_FLOW_NAME) {
      throw new InvalidOptionError(
        'name',
        `must be a non-empty string of at most ${MAX_FLOW_NAME} characters`,
      );
    }
    const intervalMs = options.intervalMs ?? 1000;
    if (!Number.isInteger(intervalMs) || intervalMs < 10) {
      throw new InvalidOptionError('intervalMs', 'must be an integer of at least 10');
    }
    if (!topology || typeof topology.stages !== 'function' || !topology.frozen) {
      throw new InvalidOptionError('topology', 'must be a flow Topology after freeze()');
    }
    const stages = topology.stages();
    if (stages.length > MAX_FLOW_STAGES) {
      throw new InvalidOptionError(
        'topology',
        `has ${stages.length} stages; at most ${MAX_FLOW_STAGES} can be published`,
      );
    }
    if (typeof options.drum === 'string' && !stages.includes(options.drum)) {
      throw new InvalidOptionError('drum', `"${options.drum}" is not a stage of the topology`);
    }
    const publisher = new FlowPublisher(name, topology, options, transport);
    await transport.publish(publisher.#sample());
    publisher.#sent = 1;
    publisher.#timer = setInterval(() => publisher.#tick(), intervalMs);
    publisher.#timer.unref();
    return publisher;
  }

  /** Samples sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** The last failed send or stats read, cleared by the next success. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /**
   * Stops publishing and tells the daemon (which greys the flow out at once). Idempotent; never
   * rejects: a daemon that is gone simply lets the flow go stale.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      clearInterval(this.#timer);
      await this.#sending;
      await this.#transport.unpublish(this.name).catch(() => {});
    })();
    return this.#stopped;
  }

  /** The same as `stop()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #tick(): void {
    if (this.#sending || this.#stopped) return;
    this.#sending = (async () => {
      try {
        await this.#transport.publish(this.#sample());
        this.#sent++;
        this.#lastError = undefined;
      } catch (e) {
        this.#lastError = e instanceof Error ? e : new Error(String(e));
      } finally {
        this.#sending = undefined;
      }
    })();
  }

  #sample(): WireFlowPublication {
    const samples: Record<string, WireStageSample> = {};
    for (const name of this.#stages) samples[name] = stageSample(this.#topology.stageStats(name)());
    const drum = typeof this.#drum === 'function' ? this.#drum() : this.#drum;
    return {
      name: this.name,
      intervalMs: this.intervalMs,
      at: Date.now(),
      stages: this.#stages,
      edges: this.#edges,
      drum: drum && this.#stages.includes(drum) ? drum : null,
      samples,
    };
  }
}
