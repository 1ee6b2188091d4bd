/**
 * What a flow program sends the daemon when it publishes a flow for the dashboard and
 * `/metrics` (`SessionsClient.publishFlow`): the stage graph, the drum, and one sample of every
 * stage's counters and gauges. Each message carries the whole topology, so the daemon keeps no
 * state a publisher must rebuild after a daemon restart, and a message is never more than a few
 * kilobytes (at most `MAX_FLOW_STAGES` stages).
 *
 * `parseFlowPublication` checks an incoming value and throws `ProtocolError` naming the first
 * thing wrong; the daemon trusts nothing else.
 */
import { ProtocolError } from './protocol.js';

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
  serviceTime: { count: number; p50Ms: number; p95Ms: number; p99Ms: number } | null;
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
  edges: { from: string; to: string; ratio: number }[];
  /** The drum (the constraint the rope protects), when the publisher knows it. */
  drum: string | null;
  /** One sample per stage, by name. */
  samples: Record<string, WireStageSample>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function fail(id: number, message: string): never {
  throw new ProtocolError(`publishFlow: ${message}`, id, 'invalid');
}

function name(id: number, v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '' || v.length > MAX_FLOW_NAME) {
    fail(id, `${what} must be a non-empty string of at most ${MAX_FLOW_NAME} characters`);
  }
  return v;
}

function count(id: number, o: Obj, k: string, where: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    fail(id, `${where}.${k} must be a finite number >= 0`);
  }
  return v;
}

function sample(id: number, v: unknown, stage: string): WireStageSample {
  if (!isObj(v)) fail(id, `samples["${stage}"] must be a map`);
  const where = `samples["${stage}"]`;
  let serviceTime: WireStageSample['serviceTime'] = null;
  if (v.serviceTime !== undefined && v.serviceTime !== null) {
    if (!isObj(v.serviceTime)) fail(id, `${where}.serviceTime must be a map or null`);
    const st = v.serviceTime;
    serviceTime = {
      count: count(id, st, 'count', `${where}.serviceTime`),
      p50Ms: count(id, st, 'p50Ms', `${where}.serviceTime`),
      p95Ms: count(id, st, 'p95Ms', `${where}.serviceTime`),
      p99Ms: count(id, st, 'p99Ms', `${where}.serviceTime`),
    };
  }
  return {
    submitted: count(id, v, 'submitted', where),
    completed: count(id, v, 'completed', where),
    failed: count(id, v, 'failed', where),
    wip: count(id, v, 'wip', where),
    wipLimit: count(id, v, 'wipLimit', where),
    queueLength: count(id, v, 'queueLength', where),
    queueCapacity: count(id, v, 'queueCapacity', where),
    workers: count(id, v, 'workers', where),
    serviceTimeMs: count(id, v, 'serviceTimeMs', where),
    serviceTime,
  };
}

/**
 * Checks that `value` is a well-formed publication and returns a clean copy (unknown fields
 * dropped). Throws `ProtocolError` with code `invalid` and the request's `id`.
 */
export function parseFlowPublication(value: unknown, id = 0): WireFlowPublication {
  if (!isObj(value)) fail(id, "'flow' must be a map");
  const flowName = name(id, value.name, 'name');
  const intervalMs = value.intervalMs;
  if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 10) {
    fail(id, 'intervalMs must be an integer >= 10');
  }
  const at = value.at;
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) {
    fail(id, 'at must be a time in ms since the epoch');
  }
  if (!Array.isArray(value.stages) || value.stages.length === 0) {
    fail(id, 'stages must be a non-empty array of names');
  }
  if (value.stages.length > MAX_FLOW_STAGES) fail(id, `at most ${MAX_FLOW_STAGES} stages`);
  const stages = value.stages.map((s, i) => name(id, s, `stages[${i}]`));
  const known = new Set(stages);
  if (known.size !== stages.length) fail(id, 'stage names must be unique');
  if (!Array.isArray(value.edges)) fail(id, 'edges must be an array');
  const edges = value.edges.map((e, i) => {
    if (!isObj(e)) fail(id, `edges[${i}] must be a map`);
    const from = name(id, e.from, `edges[${i}].from`);
    const to = name(id, e.to, `edges[${i}].to`);
    if (!known.has(from) || !known.has(to)) fail(id, `edges[${i}] names an unknown stage`);
    const ratio = e.ratio ?? 1;
    if (typeof ratio !== 'number' || !Number.isSafeInteger(ratio) || ratio < 1) {
      fail(id, `edges[${i}].ratio must be a positive integer`);
    }
    return { from, to, ratio };
  });
  let drum: string | null = null;
  if (value.drum !== undefined && value.drum !== null) {
    drum = name(id, value.drum, 'drum');
    if (!known.has(drum)) fail(id, `drum "${drum}" is not one of the stages`);
  }
  if (!isObj(value.samples)) fail(id, 'samples must be a map of stage name to sample');
  const samples: Record<string, WireStageSample> = {};
  for (const s of stages) samples[s] = sample(id, value.samples[s], s);
  return { name: flowName, intervalMs, at, stages, edges, drum, samples };
}
