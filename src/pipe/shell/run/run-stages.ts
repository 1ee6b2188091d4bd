/**
 * One pipeline of a script: its stages run as a sluice `Pipeline` (kernel pipes, the caller's fds
 * at the ends, the 'sluice' error rule), the status computed as bash's `$?` under that rule, and
 * the messages bash would print (a command not found, a file that cannot be opened) written to
 * the script's stderr.
 */
import { Pipeline, type StageResult } from '../../pipeline/pipeline.js';
import type { Stage } from '../../stage.js';
import { StatusError } from '../errors.js';
import { type ShellIO, writeText } from './io.js';
import type { ShellState } from './state.js';
import { statusOf } from './status.js';

/** Observes and may wrap the stages of every pipeline the interpreter runs (`sluice run --stats`). */
export interface PipelineInstrument {
  /**
   * Gets the stages of one pipeline and their labels (the command as written after expansion);
   * returns the stages to run and, for each given stage, its index among them.
   */
  wrap(
    stages: readonly Stage[],
    labels: readonly string[],
  ): {
    /** The stages to run, in pipeline order (wrappers of the given ones, or more). */
    stages: Stage[];
    /** For each given stage, in order, its 0-based index in `stages`. */
    positions: number[];
  };
  /** Called when that pipeline is done, with each given stage's result and status. */
  done(
    labels: readonly string[],
    results: readonly (StageResult | undefined)[],
    statuses: readonly number[],
    stages: readonly Stage[],
  ): void;
}

/** The failure that decided a non-zero status: which command, and its own error. */
export interface Failure {
  /** The command as written after expansion (its stage's label). */
  stage: string;
  /** Its 0-based position in its pipeline. */
  index: number;
  /** The command's own error (a `CommandError`, a `StatusError`, ...). */
  cause: unknown;
}

/** What running a pipeline needs from the interpreter's options. */
export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly graceMs?: number;
  readonly instrument?: PipelineInstrument;
}

/**
 * Runs `planned` as one pipeline; resolves, once every stage has finished, with its status (the
 * rightmost failed stage's, else 0) and the failure to report for it (the one the pipeline
 * chose: go-pipe's choice among real failures).
 */
export async function runStages(
  planned: { stage: Stage; label: string }[],
  state: ShellState,
  io: ShellIO,
  o: RunOptions,
): Promise<{ status: number; failure: Failure | undefined }> {
  const given = planned.map((p) => p.stage);
  const labels = planned.map((p) => p.label);
  const wrapped = o.instrument?.wrap(given, labels) ?? {
    stages: given,
    positions: given.map((_, i) => i),
  };
  const p = new Pipeline({
    stdin: io.stdin,
    stdout: io.stdout,
    cwd: state.cwd,
    signal: o.signal,
    graceMs: o.graceMs ?? 5000,
    errorRule: 'sluice',
  });
  p.add(...wrapped.stages);
  let chosen: unknown;
  await p.run().catch((e: unknown) => {
    chosen = e;
  });
  const results = wrapped.positions.map((i) => p.results.find((r) => r.index === i));
  const statuses = results.map((r) => statusOf(r));
  o.instrument?.done(labels, results, statuses, given);
  for (const r of results) {
    if (!r) continue;
    const e = r.error;
    if (r.startFailed || (e instanceof StatusError && e.report)) {
      await writeText(io.stderr, `sluice: ${e instanceof Error ? e.message : String(e)}\n`).catch(
        () => {},
      );
    }
  }
  let status = 0;
  let failedAt = -1;
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i];
    if (r === undefined) continue;
    if (r.failed || r.startFailed) {
      status = statuses[i]!;
      failedAt = i;
      break;
    }
  }
  let failure: Failure | undefined;
  if (status !== 0) {
    // Report the failure the pipeline chose (go-pipe's choice among real failures).
    const pe = chosen as { stage?: string; stageIndex?: number; cause?: unknown } | undefined;
    const idx = pe?.stageIndex !== undefined ? wrapped.positions.indexOf(pe.stageIndex) : -1;
    const at = idx >= 0 ? idx : failedAt;
    failure = {
      stage: given[at]!.name,
      index: at,
      cause: results[at]?.error ?? pe?.cause,
    };
  }
  return { status, failure };
}
