/**
 * autoRope: the five focusing steps run for you. It samples every stage, lets the analyzer find
 * the drum, ropes it, optionally elevates it, and when the constraint moves (and the analyzer's
 * hysteresis has confirmed the move) rebuilds the rope for the new drum, never taking workers
 * from a stage it elevated recently. toc stops at the building blocks; this is the loop toc's
 * docs leave to the caller.
 */

import { InvalidOptionError } from '../../../proc/index.js';
import { FlowStateError, TopologyError } from '../../errors.js';
import { assertInteger, assertPositive } from '../../validate.js';
import { Analyzer, type Diagnosis } from '../analysis/analyzer.js';
import { classifyStep, type FocusingStep, observeInterval } from '../analysis/focusing.js';
import { IntervalSampler } from '../analysis/interval.js';
import { type FlowLogger, logAt, silentLogger } from '../logger.js';
import { type Ticker, timerTicker } from '../ticker.js';
import type { Topology } from '../topology.js';
import type { AutoRopeOptions, AutoRopeStats, WindowRecord } from './auto-rope-types.js';
import { Elevator } from './elevate.js';
import { LimitManager } from './limits.js';
import { RopeController } from './rope-controller.js';

export type { AutoRopeOptions, AutoRopeStats, WindowRecord } from './auto-rope-types.js';

export type { ElevateOptions, Elevation } from './elevate.js';

const DISCOVERY = 'discovery-rope';
const ROPE = 'processing-rope';

/** Runs the focusing steps over a topology. Build with `autoRope(options)` or `new AutoRope(options)`. */
export class AutoRope {
  readonly #topology: Topology;
  readonly #intervalMs: number;
  readonly #analyzer: Analyzer;
  readonly #sampler: IntervalSampler;
  readonly #limits = new Map<string, LimitManager>();
  readonly #safety: number | undefined;
  readonly #initial: number;
  readonly #discovery: number | false;
  readonly #elevator: Elevator | undefined;
  readonly #logger: FlowLogger;
  readonly #ticker: Ticker;
  readonly #onWindow: ((r: WindowRecord) => void) | undefined;
  readonly #history: WindowRecord[] = [];

  #started = false;
  #window = 0;
  #rope: RopeController | undefined;
  #drum: string | undefined;
  #prevConstraint: string | undefined;
  #lastDiagnosis: Diagnosis | undefined;
  #step: FocusingStep | undefined;
  #migrations = 0;
  #migratedAt = Number.NEGATIVE_INFINITY;
  #previousDrum: string | undefined;
  readonly #unropable = new Set<string>();
  /** Settles when a run started by `autoRope({ signal })` ends. */
  done: Promise<void> | undefined;

  /**
   * Throws a `TopologyError` for an unfrozen topology and an `InvalidOptionError` for a bad option
   * or a head that cannot be limited.
   */
  constructor(options: AutoRopeOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'autoRope needs an options object');
    }
    const { topology } = options;
    if (!topology || typeof topology.heads !== 'function') {
      throw new InvalidOptionError('topology', 'autoRope needs a frozen Topology');
    }
    this.#topology = topology;
    const heads = topology.heads(); // throws TopologyError when not frozen
    this.#intervalMs = assertPositive('intervalMs', options.intervalMs);
    if (options.safetyFactor !== undefined) assertPositive('safetyFactor', options.safetyFactor);
    this.#safety = options.safetyFactor;
    this.#initial = assertInteger('initialRopeLength', options.initialRopeLength ?? 1, 1);
    this.#analyzer =
      options.analyzer instanceof Analyzer ? options.analyzer : new Analyzer(options.analyzer);
    this.#sampler = new IntervalSampler(topology, options);
    this.#logger = options.logger ?? silentLogger;
    this.#ticker = options.ticker ?? timerTicker;
    this.#onWindow = options.onWindow;

    for (const head of heads) {
      const stats = topology.stageStats(head);
      let apply: ((n: number) => unknown) | undefined;
      if (options.setHeadWIP) {
        const set = options.setHeadWIP;
        apply = (n) => set(head, n);
      } else {
        const handle = topology.stageHandle(head);
        if (handle && typeof handle.setMaxWIP === 'function') apply = (n) => handle.setMaxWIP!(n);
      }
      if (!apply) {
        throw new InvalidOptionError(
          'setHeadWIP',
          `autoRope cannot limit head "${head}": register it as a stage with setMaxWIP or pass setHeadWIP`,
        );
      }
      this.#limits.set(head, new LimitManager({ applyCount: apply, defaultCount: stats().maxWIP }));
    }

    if (options.discoveryWIP === false) this.#discovery = false;
    else if (options.discoveryWIP !== undefined) {
      this.#discovery = assertInteger('discoveryWIP', options.discoveryWIP, 1);
    } else {
      const workers = topology
        .stages()
        .reduce((sum, n) => sum + Math.max(1, topology.stageStats(n)().targetWorkers), 0);
      this.#discovery = 2 * workers;
    }

    this.#elevator = options.elevate
      ? new Elevator(topology, options.elevate, this.#logger)
      : undefined;
  }

  /**
   * Caps the heads with the discovery WIP at once, then runs one window per tick until `signal`
   * aborts, and resolves. Limits stay as they are when it stops. A window that throws (a stats
   * accessor failing) is logged at error and the loop goes on. Throws a `FlowStateError` if
   * called twice.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new FlowStateError('autoRope: run() called twice');
    this.#started = true;
    if (signal.aborted) return;
    try {
      this.#sampler.sample();
      if (this.#discovery !== false) {
        for (const lm of this.#limits.values()) lm.proposeCount(DISCOVERY, this.#discovery);
      }
    } catch (err) {
      logAt(this.#logger, 'error', { err }, 'autoRope: start failed');
    }
    for await (const _ of this.#ticker.ticks(this.#intervalMs, signal)) {
      try {
        this.tick();
      } catch (err) {
        logAt(this.#logger, 'error', { err, window: this.#window }, 'autoRope: window failed');
      }
      if (signal.aborted) break;
    }
  }

  /** One window: sample, diagnose, rope, elevate, classify. `run` calls it per tick. */
  tick(): WindowRecord {
    this.#window++;
    const w = this.#window;
    const intervals = this.#sampler.sample();
    const observations = [...intervals].map(([name, iv]) => observeInterval(name, iv));
    const diag = this.#analyzer.step(observations);
    this.#lastDiagnosis = diag;
    const constraint = diag.constraint;
    let reroped: WindowRecord['reroped'];

    // The step describes the window as it began: a drum roped in this window was still unroped.
    const ropedBefore = this.#rope !== undefined && this.#drum === constraint;
    if (constraint !== undefined && constraint !== this.#drum && !this.#unropable.has(constraint)) {
      reroped = this.#rerope(constraint);
    } else {
      this.#rope?.tick();
    }

    const elevated = this.#rope
      ? this.#elevator?.step({
          window: w,
          drum: this.#drum,
          diag,
          workersOf: (n) => this.#sampler.stats(n)?.targetWorkers,
          previousDrum: this.#previousDrum,
          migratedAt: this.#migratedAt,
        })
      : undefined;
    const step = classifyStep({
      prevConstraint: this.#prevConstraint,
      constraint,
      ropeActive: ropedBefore,
      rebalancing: elevated !== undefined,
      starving: diag.starvationCount > 0,
    });
    this.#prevConstraint = constraint;
    this.#step = step;

    const rs = this.#rope?.stats();
    const record: WindowRecord = {
      window: w,
      constraint,
      confidence: diag.confidence,
      step,
      drum: this.#drum,
      ropeLength: rs?.ropeLength,
      headLimit: rs?.headAppliedWIP,
      states: diag.states,
    };
    if (elevated) record.elevated = elevated;
    if (reroped) record.reroped = reroped;
    this.#history.push(record);
    if (this.#history.length > 10_000) this.#history.shift();
    try {
      this.#onWindow?.(record);
    } catch {
      // A callback's failure is its own.
    }
    return record;
  }

  /** A snapshot of the loop. */
  stats(): AutoRopeStats {
    return {
      windows: this.#window,
      constraint: this.#lastDiagnosis?.constraint,
      drum: this.#drum,
      step: this.#step,
      rope: this.#rope?.stats(),
      migrations: this.#migrations,
      elevations: (this.#elevator?.elevations ?? []).map((e) => ({ ...e })),
      discoveryWIP: this.#discovery,
    };
  }

  /** The latest diagnosis. */
  diagnosis(): Diagnosis | undefined {
    return this.#lastDiagnosis;
  }

  /** Every window's record so far (the last 10,000). */
  history(): WindowRecord[] {
    return [...this.#history];
  }

  /** The limit managers of the heads (what each source proposes and what is applied). */
  limits(head: string): LimitManager | undefined {
    return this.#limits.get(head);
  }

  #rerope(drum: string): WindowRecord['reroped'] {
    let rope: RopeController;
    const old = this.#rope;
    let head: string;
    try {
      head = this.#topology.ropeSegment(drum).head;
      const lm = this.#limits.get(head)!;
      rope = new RopeController({
        topology: this.#topology,
        drum,
        setHeadWIP: lm.proposer(ROPE),
        snapshot: this.#sampler.snapshot,
        intervalMs: this.#intervalMs,
        safetyFactor: this.#safety,
        // A new drum starts from the old rope's length, so release does not collapse to 1 while
        // the new rope's averages warm up.
        initialRopeLength: Math.max(this.#initial, old?.stats().ropeLength ?? 1),
        logger: this.#logger,
        ticker: this.#ticker,
      });
    } catch (e) {
      if (!(e instanceof TopologyError)) throw e;
      this.#unropable.add(drum);
      logAt(this.#logger, 'warn', { drum, reason: e.message }, `autoRope: cannot rope ${drum}`);
      this.#rope?.tick();
      return undefined;
    }
    const from = this.#drum;
    const oldHead = old?.segment.head;
    rope.tick(); // proposes its length before the old proposals are withdrawn
    if (oldHead !== undefined && oldHead !== head) this.#limits.get(oldHead)?.withdrawCount(ROPE);
    this.#limits.get(head)!.withdrawCount(DISCOVERY);
    if (from !== undefined) {
      this.#migrations++;
      this.#migratedAt = this.#window;
      this.#previousDrum = from;
    }
    this.#rope = rope;
    this.#drum = drum;
    const rs = rope.stats();
    logAt(
      this.#logger,
      'info',
      { from, drum, head, ropeLength: rs.ropeLength, window: this.#window },
      from === undefined
        ? `autoRope: drum is ${drum}; rope from ${head} length=${rs.ropeLength}`
        : `autoRope: constraint moved ${from} -> ${drum}; rope rebuilt from ${head} length=${rs.ropeLength}`,
    );
    return { from, to: drum };
  }
}

/**
 * Builds an `AutoRope`; with `options.signal` it starts at once and `done` settles when the
 * signal aborts. See `AutoRope` for what each window does.
 *
 * @example
 * ```ts
 * const topology = new Topology().addStage('parse', parse).addStage('transform', transform)
 *   .addEdge('parse', 'transform').freeze();
 * const ac = new AbortController();
 * const auto = autoRope({ topology, intervalMs: 100, signal: ac.signal });
 * // … produce, drain, wait …
 * ac.abort();
 * await auto.done;
 * console.log(auto.stats().drum); // 'transform'
 * ```
 */
export function autoRope(options: AutoRopeOptions): AutoRope {
  const auto = new AutoRope(options);
  if (options.signal) auto.done = auto.run(options.signal);
  return auto;
}
