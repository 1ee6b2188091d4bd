/**
 * Topology (toc's Pipeline): a passive description of how stages connect, a DAG of stage names and
 * their stats accessors. It owns and starts nothing; the rope controller, autoRope and the
 * analyzer read it to reason about the stages upstream of a chosen drum.
 *
 * Build it with `addStage` and `addEdge`, then `freeze()`. After `freeze` it is read-only; queries
 * before `freeze` and changes after it throw a `TopologyError`, as does every misconfiguration
 * (empty or duplicate names, a missing stats accessor, unknown stages, duplicate edges,
 * self-loops, ratios that are not positive integers, cycles, an empty topology).
 */
import { TopologyError } from '../errors.js';
import { readSource, type StageHandle, type StageSource } from '../stage-like.js';
import type { Stats } from '../stats.js';

/** One edge into a stage: its predecessor and the consumption ratio of the edge. */
export interface IncomingEdge {
  /** The predecessor. */
  from: string;
  /** Items from `from` consumed per unit of output of the stage (bill of materials). */
  ratio: number;
}

/** The part of a linear chain a rope holds: `segment` runs from `head` to the drum, drum excluded. */
export interface RopeSegment {
  /** The head that feeds the drum. */
  head: string;
  /** The drum. */
  drum: string;
  /** Ordered stages from `head` (first) to the stage just before the drum. */
  segment: string[];
}

interface Node {
  stats: () => Stats;
  handle: StageHandle | undefined;
}

/**
 * toc's Pipeline: stage names, their stats accessors and the edges between them. Build with
 * `addStage` and `addEdge`, then `freeze()`.
 *
 * @example
 * ```ts
 * const topology = new Topology()
 *   .addStage('parse', parse) // a Stage: its stats() is read, its setMaxWIP() roped
 *   .addStage('store', () => store.stats())
 *   .addEdge('parse', 'store')
 *   .freeze();
 * console.log(topology.heads()); // ['parse']
 * ```
 */
export class Topology {
  readonly #nodes = new Map<string, Node>();
  readonly #order: string[] = [];
  readonly #forward = new Map<string, string[]>();
  readonly #reverse = new Map<string, string[]>();
  readonly #ratios = new Map<string, number>();
  #heads: string[] = [];
  #frozen = false;

  /**
   * Registers a stage under `name` with a stats accessor, a stage (a flow `Stage` or any
   * `StageLike`, whose `setMaxWIP`/`setWorkers` autoRope may then use) or a batcher. Throws a
   * `TopologyError` for an empty or duplicate name, a source without `stats`, or after `freeze`.
   */
  addStage(name: string, source: StageSource): this {
    this.#mustNotFreeze('addStage');
    if (typeof name !== 'string' || name === '') {
      throw new TopologyError('empty-name', 'topology: a stage name must be a non-empty string');
    }
    if (this.#nodes.has(name)) {
      throw new TopologyError('duplicate-stage', `topology: stage "${name}" is already registered`);
    }
    const node: Node | undefined = readSource(source);
    if (node === undefined) {
      throw new TopologyError(
        'bad-stats',
        `topology: stage "${name}" needs a stats accessor or an object with stats()`,
      );
    }
    this.#nodes.set(name, node);
    this.#order.push(name);
    this.#forward.set(name, []);
    this.#reverse.set(name, []);
    return this;
  }

  /**
   * Registers the edge `from → to` with a consumption ratio (default 1: one item of `from` per
   * unit of `to`'s output). Both stages must exist. Throws a `TopologyError` for unknown stages,
   * a self-loop, a duplicate edge, a ratio that is not a positive integer, or after `freeze`.
   */
  addEdge(from: string, to: string, ratio = 1): this {
    this.#mustNotFreeze('addEdge');
    this.#mustStage(from);
    this.#mustStage(to);
    if (from === to) {
      throw new TopologyError('self-loop', `topology: edge "${from}" → "${to}" is a self-loop`);
    }
    if (!Number.isSafeInteger(ratio) || ratio <= 0) {
      throw new TopologyError(
        'bad-ratio',
        `topology: edge "${from}" → "${to}" ratio must be a positive integer, got ${String(ratio)}`,
      );
    }
    const key = edgeKey(from, to);
    if (this.#ratios.has(key)) {
      throw new TopologyError(
        'duplicate-edge',
        `topology: edge "${from}" → "${to}" already exists`,
      );
    }
    this.#ratios.set(key, ratio);
    this.#forward.get(from)!.push(to);
    this.#reverse.get(to)!.push(from);
    return this;
  }

  /**
   * Validates and seals the topology: it must have a stage and no cycle (checked with Kahn's
   * algorithm; the error names a cycle). Computes the heads (stages nothing feeds). Throws a
   * `TopologyError` if called twice.
   */
  freeze(): this {
    this.#mustNotFreeze('freeze');
    if (this.#order.length === 0) {
      throw new TopologyError('no-stages', 'topology: cannot freeze a topology with no stages');
    }
    const indegree = new Map<string, number>();
    for (const name of this.#order) indegree.set(name, this.#reverse.get(name)!.length);
    const queue = this.#order.filter((n) => indegree.get(n) === 0);
    let seen = 0;
    for (let i = 0; i < queue.length; i++) {
      seen++;
      for (const next of this.#forward.get(queue[i]!)!) {
        const d = indegree.get(next)! - 1;
        indegree.set(next, d);
        if (d === 0) queue.push(next);
      }
    }
    if (seen !== this.#order.length) {
      const cycle = this.#findCycle(new Set(this.#order.filter((n) => indegree.get(n)! > 0)));
      throw new TopologyError('cycle', `topology: cycle ${cycle.join(' → ')}`);
    }
    this.#heads = this.#order.filter((n) => this.#reverse.get(n)!.length === 0);
    this.#frozen = true;
    return this;
  }

  /** Whether `freeze()` has been called. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Every stage, in registration order. */
  stages(): string[] {
    this.#mustFrozen();
    return [...this.#order];
  }

  /** Stages with no incoming edge (entry points), in registration order. */
  heads(): string[] {
    this.#mustFrozen();
    return [...this.#heads];
  }

  /** The heads that can reach `target` (a head that is `target` itself counts), in registration order. */
  headsTo(target: string): string[] {
    this.#mustFrozen();
    this.#mustStage(target);
    const reach = new Set([target, ...this.#bfs(target, this.#reverse)]);
    return this.#heads.filter((h) => reach.has(h));
  }

  /** Every stage upstream of `target`, closest first (breadth-first), `target` excluded. */
  ancestorsOf(target: string): string[] {
    this.#mustFrozen();
    this.#mustStage(target);
    return this.#bfs(target, this.#reverse);
  }

  /** Every stage downstream of `source`, closest first, `source` excluded. */
  descendantsOf(source: string): string[] {
    this.#mustFrozen();
    this.#mustStage(source);
    return this.#bfs(source, this.#forward);
  }

  /** The stages with an edge into `name`, in the order the edges were added. */
  directPredecessors(name: string): string[] {
    this.#mustFrozen();
    this.#mustStage(name);
    return [...this.#reverse.get(name)!];
  }

  /** The stages `name` has an edge to, in the order the edges were added. */
  directSuccessors(name: string): string[] {
    this.#mustFrozen();
    this.#mustStage(name);
    return [...this.#forward.get(name)!];
  }

  /** The edges into `name` with their ratios, in the order they were added. */
  incoming(name: string): IncomingEdge[] {
    this.#mustFrozen();
    this.#mustStage(name);
    return this.#reverse
      .get(name)!
      .map((from) => ({ from, ratio: this.#ratios.get(edgeKey(from, name))! }));
  }

  /** Whether a directed path leads from `from` to `to` (a stage reaches itself). */
  hasPath(from: string, to: string): boolean {
    this.#mustFrozen();
    this.#mustStage(from);
    this.#mustStage(to);
    return from === to || this.#bfs(from, this.#forward).includes(to);
  }

  /** The ratio of the edge `from → to`. Throws a `TopologyError` if there is no such edge. */
  edgeRatio(from: string, to: string): number {
    this.#mustFrozen();
    const ratio = this.#ratios.get(edgeKey(from, to));
    if (ratio === undefined) {
      throw new TopologyError('unknown-edge', `topology: no edge "${from}" → "${to}"`);
    }
    return ratio;
  }

  /** The stats accessor registered for `name`. */
  stageStats(name: string): () => Stats {
    this.#mustFrozen();
    this.#mustStage(name);
    return this.#nodes.get(name)!.stats;
  }

  /** The stage handle registered for `name`, or undefined when a bare accessor was given. */
  stageHandle(name: string): StageHandle | undefined {
    this.#mustFrozen();
    this.#mustStage(name);
    return this.#nodes.get(name)!.handle;
  }

  /**
   * The single linear chain a rope can hold for `drum`: exactly one head feeds the drum, every
   * stage from that head to the drum has one successor, every stage after the head has one
   * predecessor, and the drum has exactly one predecessor. Throws a `TopologyError`
   * (`not-linear`) naming the stage that breaks the rule, as toc's RopeController does.
   */
  ropeSegment(drum: string): RopeSegment {
    this.#mustFrozen();
    this.#mustStage(drum);
    const heads = this.headsTo(drum);
    if (heads.length !== 1 || heads[0] === drum) {
      throw new TopologyError(
        'not-linear',
        heads[0] === drum
          ? `topology: drum "${drum}" is a head; there is nothing upstream to rope`
          : `topology: ${heads.length} heads feed drum "${drum}"; a rope needs exactly one`,
      );
    }
    const head = heads[0]!;
    const segment: string[] = [];
    let current = head;
    while (current !== drum) {
      if (current !== head && this.#reverse.get(current)!.length !== 1) {
        throw new TopologyError(
          'not-linear',
          `topology: stage "${current}" between head and drum "${drum}" has side inputs`,
        );
      }
      const next = this.#forward.get(current)!;
      if (next.length !== 1) {
        throw new TopologyError(
          'not-linear',
          `topology: stage "${current}" between head and drum "${drum}" has ${next.length} successors`,
        );
      }
      segment.push(current);
      current = next[0]!;
    }
    if (this.#reverse.get(drum)!.length !== 1) {
      throw new TopologyError(
        'not-linear',
        `topology: drum "${drum}" has ${this.#reverse.get(drum)!.length} predecessors; a rope needs one`,
      );
    }
    return { head, drum, segment };
  }

  #bfs(start: string, edges: Map<string, string[]>): string[] {
    const seen = new Set([start]);
    const out: string[] = [];
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      for (const next of edges.get(queue[i]!)!) {
        if (seen.has(next)) continue;
        seen.add(next);
        out.push(next);
        queue.push(next);
      }
    }
    return out;
  }

  /** A cycle among `left` (stages Kahn could not remove), as a closed path of names. */
  #findCycle(left: Set<string>): string[] {
    // Every stage left over has a predecessor that is also left over; walk back until a repeat.
    let current = this.#order.find((n) => left.has(n))!;
    const path: string[] = [];
    const at = new Map<string, number>();
    while (!at.has(current)) {
      at.set(current, path.length);
      path.push(current);
      current = this.#reverse.get(current)!.find((p) => left.has(p))!;
    }
    // path[j + 1] → path[j] is an edge, so the cycle read forwards is the slice reversed.
    const cycle = path.slice(at.get(current)!).reverse();
    return [...cycle, cycle[0]!];
  }

  #mustFrozen(): void {
    if (!this.#frozen) {
      throw new TopologyError('not-frozen', 'topology: call freeze() before querying');
    }
  }

  #mustNotFreeze(what: string): void {
    if (this.#frozen) {
      throw new TopologyError('frozen', `topology: ${what}() after freeze()`);
    }
  }

  #mustStage(name: string): void {
    if (!this.#nodes.has(name)) {
      throw new TopologyError('unknown-stage', `topology: unknown stage "${String(name)}"`);
    }
  }
}

function edgeKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}
