/**
 * Edge negotiation (go-pipe v2's stageJoiner): before any stage starts, decide what connects
 * each pair of neighbours, and refuse a stream a stage forbids.
 */
import { PipeUsageError } from '../errors.js';
import { type StagePreferences, validPreference } from '../stage.js';

/**
 * What one edge is:
 * - `'none'`: nothing (the pipeline has no stdin / stdout there);
 * - `'caller'`: the caller's own stdin or stdout, passed as is (its fd to a command);
 * - `'kernel'`: a real pipe(2), because a neighbour prefers an fd;
 * - `'memory'`: an in-memory pipe, because both neighbours accept any stream.
 */
export type EdgeKind = 'none' | 'caller' | 'kernel' | 'memory';

/** The pipeline's two outer ends as negotiation sees them. */
export interface OuterEnds {
  /** Whether the caller gave a stdin. */
  stdin: boolean;
  /**
   * `'none'`: no stdout; `'caller'`: the caller's stdout; `'capture'`: the pipeline reads the
   * output itself (`output()`, `text()`, `lines()`), as a neighbour that accepts any stream.
   */
  stdout: 'none' | 'caller' | 'capture';
}

/**
 * Plans the `n + 1` edges of `n` stages: edge 0 feeds stage 0, edge i joins stage i-1 to stage
 * i, edge n leaves the last stage. Throws `PipeUsageError` for an invalid preference or a
 * connected stream a stage forbids (`stage "println" forbids stdin, but stdin is connected`).
 */
export function planEdges(
  stages: readonly { name: string; preferences: StagePreferences }[],
  ends: OuterEnds,
): EdgeKind[] {
  const n = stages.length;
  const prefs = stages.map((s) => {
    const p = s.preferences;
    for (const side of ['stdin', 'stdout'] as const) {
      if (!validPreference(p?.[side])) {
        throw new PipeUsageError(
          `stage "${s.name}": ${side}: invalid stream preference ${String(p?.[side])}`,
        );
      }
    }
    return p;
  });
  const edges: EdgeKind[] = [];
  for (let i = 0; i <= n; i++) {
    const before = i > 0 ? prefs[i - 1]! : undefined;
    const after = i < n ? prefs[i]! : undefined;
    const connected = i === 0 ? ends.stdin : i === n ? ends.stdout !== 'none' : true;
    if (!connected) {
      edges.push('none');
      continue;
    }
    if (before?.stdout === 'none') {
      throw new PipeUsageError(
        `stage "${stages[i - 1]!.name}" forbids stdout, but stdout is connected`,
      );
    }
    if (after?.stdin === 'none') {
      throw new PipeUsageError(`stage "${stages[i]!.name}" forbids stdin, but stdin is connected`);
    }
    if (i === 0 || (i === n && ends.stdout === 'caller')) {
      edges.push('caller');
    } else if (before?.stdout === 'fd' || after?.stdin === 'fd') {
      edges.push('kernel');
    } else {
      edges.push('memory');
    }
  }
  return edges;
}
