/**
 * `/metrics`: the daemon's sessions and the published flows in Prometheus text format, built
 * with prom-client. Every value is read when a scrape arrives (collectors, no timers), so the
 * metrics cost nothing between scrapes.
 *
 * Names follow Prometheus conventions: the `sluice_` prefix, base units (`_bytes`, `_seconds`),
 * `_total` on counters, one label set per series, and the standard `process_` names for the
 * daemon's own RSS and fds. docs/dashboard.md lists every series.
 */
import { readdirSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { WireStageSample } from '../wire/flow-publication.js';
import type { FlowBoard } from './flow-board.js';
import type { DashboardHost } from './host.js';

type Labels = Record<string, string | number>;
type Kind = 'counter' | 'gauge' | 'summary';

/** A series a collector reports: its labels and value, or a `_sum`/`_count` of a summary. */
interface Sample {
  labels?: Labels;
  value: number;
  metricName?: string;
}

/** A metric whose values come from `collect` at scrape time (prom-client's custom-metric shape). */
class Collected {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: Kind,
    readonly collect: () => Sample[],
  ) {}

  async get(): Promise<{ name: string; help: string; type: Kind; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, values: this.collect() };
  }
}

function openFdCount(): number {
  try {
    // One entry is the directory handle readdir itself holds.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return 0;
  }
}

/** Registers one collected metric on the registry being built. */
type AddMetric = (name: string, help: string, type: Kind, collect: () => Sample[]) => void;

/** The flow stage series read from each flow's latest sample, one per stage. */
const STAGE_METRICS: [string, string, Kind, (s: WireStageSample) => number][] = [
  ['sluice_flow_stage_submitted_total', 'Items the stage accepted.', 'counter', (s) => s.submitted],
  [
    'sluice_flow_stage_completed_total',
    'Items the stage finished (failed ones included).',
    'counter',
    (s) => s.completed,
  ],
  [
    'sluice_flow_stage_failed_total',
    'Items whose result was an error.',
    'counter',
    (s) => s.failed,
  ],
  [
    'sluice_flow_stage_wip',
    'Items holding a WIP permit: queued, in flight, or results not yet taken.',
    'gauge',
    (s) => s.wip,
  ],
  [
    'sluice_flow_stage_wip_limit',
    'The WIP limit now (the rope, where one holds the stage).',
    'gauge',
    (s) => s.wipLimit,
  ],
  [
    'sluice_flow_stage_queue_length',
    'Items waiting in the input queue.',
    'gauge',
    (s) => s.queueLength,
  ],
  [
    'sluice_flow_stage_queue_capacity',
    'Capacity of the input queue.',
    'gauge',
    (s) => s.queueCapacity,
  ],
  ['sluice_flow_stage_workers', 'Workers now running.', 'gauge', (s) => s.workers],
];

/** The dashboard's metrics registry over `host`'s sessions and `flows`. */
export function createMetrics(host: DashboardHost, flows: FlowBoard): Registry {
  const registry = new Registry();
  const add: AddMetric = (name, help, type, collect) =>
    registry.registerMetric(new Collected(name, help, type, collect) as never);
  addSessionMetrics(add, host);
  addProcessMetrics(add);
  addFlowMetrics(add, flows);
  return registry;
}

/** `sluice_sessions`, `sluice_session_*`: the daemon's sessions and their streams. */
function addSessionMetrics(add: AddMetric, host: DashboardHost): void {
  const sessions = () => host.sessions().map((s) => s.info());
  add('sluice_sessions', 'Sessions the daemon holds, by state.', 'gauge', () => {
    const all = sessions();
    const running = all.filter((s) => s.state === 'running').length;
    return [
      { labels: { state: 'running' }, value: running },
      { labels: { state: 'exited' }, value: all.length - running },
    ];
  });
  add('sluice_session_info', 'One series per session; its labels describe it.', 'gauge', () =>
    sessions().map((s) => ({
      labels: { session: s.id, kind: s.kind, originator: s.originator, state: s.state },
      value: 1,
    })),
  );
  add(
    'sluice_session_start_time_seconds',
    'When the session was spawned, seconds since the epoch.',
    'gauge',
    () => sessions().map((s) => ({ labels: { session: s.id }, value: s.createdAt / 1000 })),
  );
  const perStream = (pick: (a: { bytes: number; dropped: number }) => number) => () =>
    sessions().flatMap((s) =>
      Object.entries(s.attachments).map(([stream, a]) => ({
        labels: { session: s.id, stream },
        value: pick(a),
      })),
    );
  add(
    'sluice_session_output_bytes_total',
    'Bytes the session wrote to the stream (read by the daemon).',
    'counter',
    perStream((a) => a.bytes),
  );
  add(
    'sluice_session_dropped_bytes_total',
    'Bytes dropped from the front of the stream backlog (ring) to make room.',
    'counter',
    perStream((a) => a.dropped),
  );
  add(
    'sluice_session_attachments',
    'Clients attached to the stream, by role (one writer at most, any number of viewers).',
    'gauge',
    () =>
      sessions().flatMap((s) =>
        Object.entries(s.attachments).flatMap(([stream, a]) => [
          { labels: { session: s.id, stream, role: 'writer' }, value: a.writer ? 1 : 0 },
          { labels: { session: s.id, stream, role: 'viewer' }, value: a.viewers },
        ]),
      ),
  );
}

/** The standard `process_` series for the daemon itself. */
function addProcessMetrics(add: AddMetric): void {
  add('process_resident_memory_bytes', 'Resident memory of the daemon.', 'gauge', () => [
    { value: process.memoryUsage.rss() },
  ]);
  add('process_open_fds', 'Open file descriptors of the daemon.', 'gauge', () => [
    { value: openFdCount() },
  ]);
}

/** `sluice_flow_*`: the published flows and their stages' latest samples. */
function addFlowMetrics(add: AddMetric, flows: FlowBoard): void {
  add(
    'sluice_flow_up',
    '1 while a published flow keeps publishing, 0 once it stopped.',
    'gauge',
    () =>
      flows.list().map((f) => ({ labels: { flow: f.name }, value: f.state === 'live' ? 1 : 0 })),
  );
  add(
    'sluice_flow_last_publish_timestamp_seconds',
    'When the flow last published, seconds since the epoch.',
    'gauge',
    () => flows.list().map((f) => ({ labels: { flow: f.name }, value: f.lastSeen / 1000 })),
  );
  const perStage = (pick: (s: WireStageSample) => number) => () =>
    flows.list().flatMap((f) => {
      const last = f.history.at(-1);
      if (!last) return [];
      return f.stages.map((stage) => ({
        labels: { flow: f.name, stage },
        value: pick(last.samples[stage]!),
      }));
    });
  for (const [name, help, type, pick] of STAGE_METRICS) add(name, help, type, perStage(pick));
  add('sluice_flow_stage_drum', '1 for the stage the flow names as its drum.', 'gauge', () =>
    flows
      .list()
      .filter((f) => f.drum !== null)
      .map((f) => ({ labels: { flow: f.name, stage: f.drum! }, value: 1 })),
  );
  add(
    'sluice_flow_stage_service_time_seconds',
    'Service time of the stage function (quantiles where the stage tracks them).',
    'summary',
    () => serviceTimeSamples(flows),
  );
}

/** The service-time summary's series: quantiles where a stage tracks them, then `_sum` and `_count`. */
function serviceTimeSamples(flows: FlowBoard): Sample[] {
  return flows.list().flatMap((f) => {
    const last = f.history.at(-1);
    if (!last) return [];
    return f.stages.flatMap((stage) => {
      const s = last.samples[stage]!;
      const labels = { flow: f.name, stage };
      const out: Sample[] = [];
      if (s.serviceTime) {
        out.push(
          { labels: { ...labels, quantile: 0.5 }, value: s.serviceTime.p50Ms / 1000 },
          { labels: { ...labels, quantile: 0.95 }, value: s.serviceTime.p95Ms / 1000 },
          { labels: { ...labels, quantile: 0.99 }, value: s.serviceTime.p99Ms / 1000 },
        );
      }
      out.push(
        {
          metricName: 'sluice_flow_stage_service_time_seconds_sum',
          labels,
          value: s.serviceTimeMs / 1000,
        },
        {
          metricName: 'sluice_flow_stage_service_time_seconds_count',
          labels,
          value: s.completed,
        },
      );
      return out;
    });
  });
}
