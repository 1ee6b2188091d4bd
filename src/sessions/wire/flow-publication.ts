/**
 * What a flow program sends the daemon when it publishes a flow for the dashboard and
 * `/metrics` (`SessionsClient.publishFlow`): the stage graph, the drum, and one sample of every
 * stage's counters and gauges. Each message carries the whole topology, so the daemon keeps no
 * state a publisher must rebuild after a daemon restart, and a message is never more than a few
 * kilobytes (at most `MAX_FLOW_STAGES` stages).
 *
 * `parseFlowPublication` checks an incoming value and calls `fail` with one message naming the
 * first thing wrong (the daemon's parser throws its `ProtocolError` there); the daemon trusts
 * nothing else. This file imports nothing, so the protocol's parser and the client can both use
 * it without a cycle.
 */

/** Most stages one published flow may have. */
export const MAX_FLOW_STAGES = 256;
/** Longest flow or stage name, in UTF-16 code units. */
export const MAX_FLOW_NAME = 200;

/** One stage's sample: the subset of flow's `Stats` the dashboard draws and exports. */
export interface WireStageSample {
  /** Items accepted by `submit`, cumulative. */
  submitted: number;
  /** Items whose function returned or threw, cumulative. */
  completed: number;
  /** Completed items whose result is an error, cumulative. */
  failed: number;
  /** Items now holding a WIP permit (queued, in flight, or results not yet taken). */
  wip: number;
  /** The WIP limit now (the rope, when one holds the stage). */
  wipLimit: number;
  /** Items waiting in the input queue. */
  queueLength: number;
  /** The input queue's capacity. */
  queueCapacity: number;
  /** Workers now running. */
  workers: number;
  /** Cumulative time the stage's function ran, in ms. */
  serviceTimeMs: number;
  /** Service-time percentiles in ms, when the stage tracks them (`trackServiceTime`). */
  serviceTime: {
    /** Items recorded. */
    count: number;
    /** The median service time, in ms. */
    p50Ms: number;
    /** The 95th percentile, in ms. */
    p95Ms: number;
    /** The 99th percentile, in ms. */
    p99Ms: number;
  } | null;
}

/** One published flow at one moment. */
export interface WireFlowPublication {
  /** The flow's name, unique per daemon: a second publisher of a name replaces the first. */
  name: string;
  /** How often the publisher sends; the dashboard greys the flow out after three missed. */
  intervalMs: number;
  /** When the sample was taken, ms since the epoch (the publisher's clock). */
  at: number;
  /** Stage names in registration order. */
  stages: string[];
  /** The graph's edges, with their consumption ratios. */
  edges: {
    /** The upstream stage's name. */
    from: string;
    /** The downstream stage's name. */
    to: string;
    /** Items from `from` consumed per item `to` produces (a positive integer, 1 by default). */
    ratio: number;
  }[];
  /** The drum (the constraint the rope protects), when the publisher knows it. */
  drum: string | null;
  /** One sample per stage, by name. */
  samples: Record<string, WireStageSample>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Reports the first thing wrong; must throw. */
type Fail = (message: string) => never;

function name(fail: Fail, v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '' || v.length > MAX_FLOW_NAME) {
    fail(`${what} must be a non-empty string of at most ${MAX_FLOW_NAME} characters`);
  }
  return v;
}

function count(fail: Fail, o: Obj, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    fail(`${where}.${k} must be a finite number >= 0`);
  }
  return v;
}

function sample(fail: Fail, v: unknown, stage: string): WireStageSample {
  if (!isObj(v)) fail(`samples["${stage}"] must be a map`);
  const where = `samples["${stage}"]`;
  let serviceTime: WireStageSample['serviceTime'] = null;
  if (v.serviceTime !== undefined && v.serviceTime !== null) {
    if (!isObj(v.serviceTime)) fail(`${where}.serviceTime must be a map or null`);
    const st = v.serviceTime;
    serviceTime = {
      count: count(fail, st, 'count', `${where}.serviceTime`),
      p50Ms: count(fail, st, 'p50Ms', `${where}.serviceTime`),
      p95Ms: count(fail, st, 'p95Ms', `${where}.serviceTime`),
      p99Ms: count(fail, st, 'p99Ms', `${where}.serviceTime`),
    };
  }
  return {
    submitted: count(fail, v, 'submitted', where),
    completed: count(fail, v, 'completed', where),
    failed: count(fail, v, 'failed', where),
    wip: count(fail, v, 'wip', where),
    wipLimit: count(fail, v, 'wipLimit', where),
    queueLength: count(fail, v, 'queueLength', where),
    queueCapacity: count(fail, v, 'queueCapacity', where),
    workers: count(fail, v, 'workers', where),
    serviceTimeMs: count(fail, v, 'serviceTimeMs', where),
    serviceTime,
  };
}

/**
 * Checks that `value` is a well-formed publication and returns a clean copy (unknown fields
 * dropped). Calls `fail` (which must throw) with a message naming the first thing wrong.
 */
export function parseFlowPublication(value: unknown, fail: Fail): WireFlowPublication {
  if (!isObj(value)) fail("'flow' must be a map");
  const flowName = name(fail, value.name, 'name');
  const intervalMs = value.intervalMs;
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 10) {
    fail('intervalMs must be an integer >= 10');
  }
  const at = value.at;
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) {
    fail('at must be a time in ms since the epoch');
  }
  if (!Array.isArray(value.stages) || value.stages.length === 0) {
    fail('stages must be a non-empty array of names');
  }
  if (value.stages.length > MAX_FLOW_STAGES) fail(`at most ${MAX_FLOW_STAGES} stages`);
  const stages = value.stages.map((s, i) => name(fail, s, `stages[${i}]`));
  const known = new Set(stages);
  if (known.size !== stages.length) fail('stage names must be unique');
  if (!Array.isArray(value.edges)) fail('edges must be an array');
  const edges = value.edges.map((e, i) => {
    if (!isObj(e)) fail(`edges[${i}] must be a map`);
    const from = name(fail, e.from, `edges[${i}].from`);
    const to = name(fail, e.to, `edges[${i}].to`);
    if (!known.has(from) || !known.has(to)) fail(`edges[${i}] names an unknown stage`);
    const ratio = e.ratio ?? 1;
    if (typeof ratio !== 'number' || !Number.isSafeInteger(ratio) || ratio < 1) {
      fail(`edges[${i}].ratio must be a positive integer`);
    }
    return { from, to, ratio };
  });
  let drum: string | null = null;
  if (value.drum !== undefined && value.drum !== null) {
    drum = name(fail, value.drum, 'drum');
    if (!known.has(drum)) fail(`drum "${drum}" is not one of the stages`);
  }
  if (!isObj(value.samples)) fail('samples must be a map of stage name to sample');
  const samples: Record<string, WireStageSample> = {};
  for (const s of stages) samples[s] = sample(fail, value.samples[s], s);
  return { name: flowName, intervalMs, at, stages, edges, drum, samples };
}
