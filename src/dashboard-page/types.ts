/**
 * The shapes the daemon sends the page (a copy of the server's JSON, kept here so the page
 * builds on its own with DOM types and nothing from Node).
 */

export interface ExitStateJson {
  exitCode: number | null;
  signal: string | null;
  exitedAt: number;
  outcome: 'natural' | 'eof' | 'soft' | 'hard';
}

export interface SessionJson {
  id: string;
  pid: number;
  kind: 'pipe' | 'pty';
  command: string;
  cwd: string;
  originator: string;
  createdAt: number;
  state: 'running' | 'exited';
  /** How it ended (protocol 2); older daemons send `exitState` instead. */
  exitInfo?: Omit<ExitStateJson, 'exitedAt'> | null;
  exitedAt?: number | null;
  exitState?: ExitStateJson | null;
  streams: ('stdout' | 'stderr')[];
  attachments: Record<string, { writer: boolean; viewers: number; bytes: number; dropped: number }>;
  size: { rows: number; cols: number } | null;
}

export interface StageSample {
  submitted: number;
  completed: number;
  failed: number;
  wip: number;
  wipLimit: number;
  queueLength: number;
  queueCapacity: number;
  workers: number;
  serviceTimeMs: number;
  serviceTime: { count: number; p50Ms: number; p95Ms: number; p99Ms: number } | null;
}

export interface FlowPoint {
  t: number;
  samples: Record<string, StageSample>;
}

export interface FlowHead {
  name: string;
  state: 'live' | 'stale';
  intervalMs: number;
  stages: string[];
  edges: { from: string; to: string; ratio: number }[];
  drum: string | null;
  lastSeen: number;
}

export interface FlowJson extends FlowHead {
  history: FlowPoint[];
}

/** A session's end, whichever shape the daemon sent; null while it runs. */
export function exitOf(s: SessionJson): ExitStateJson | null {
  if (s.exitInfo) return { ...s.exitInfo, exitedAt: s.exitedAt ?? Date.now() };
  return s.exitState ?? null;
}
