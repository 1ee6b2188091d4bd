/** A pipeline stage's result as bash's exit status. */
import { constants } from 'node:os';
import { StageStartError } from '../../errors.js';
import type { StageResult } from '../../pipeline/pipeline.js';
import { isPipeError } from '../../predicates.js';
import { StatusError } from '../errors.js';

/**
 * bash's status for one stage's result: 127 not found and 126 not executable (a start failure
 * or a `StatusError`), 128 + N for a signal, the exit code, 141 for a pipe error of a function
 * stage, else 1 for any other failure and 0 for success.
 */
export function statusOf(r: StageResult | undefined): number {
  if (!r) return 1;
  const e = r.error;
  if (r.startFailed) {
    const s = e instanceof StageStartError ? e : undefined;
    if (s?.reason !== 'command') return 1;
    return s.errno === 'EACCES' ? 126 : 127;
  }
  if (e instanceof StatusError) return e.status;
  if (r.signal) return 128 + (constants.signals[r.signal] ?? 0);
  if (typeof r.exitCode === 'number' && r.exitCode !== 0) return r.exitCode;
  if (e === undefined) return typeof r.exitCode === 'number' ? r.exitCode : 0;
  if (isPipeError(e)) return 141;
  return 1;
}
