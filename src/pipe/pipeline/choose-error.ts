/**
 * The two rules for which stage errors make a pipeline fail, and which one it reports.
 */
import { isFinishEarly, isPipeError } from '../predicates.js';

/**
 * How a pipeline decides whether it failed:
 * - `'sluice'` (the default): pipefail, except that a stage ended by SIGPIPE/EPIPE (any pipe
 *   error, see `isPipeError`) is not a failure when every stage downstream of it succeeded (or
 *   was itself such a forgiven stage). `seq 1 100000 | head -2` and `yes | head -1` succeed; a
 *   stage that failed for any other reason fails the pipeline wherever it is. The last stage has
 *   no stage downstream to vouch for it, so a pipe error there (its reader, outside the pipeline,
 *   went away) is a failure.
 * - `'go-pipe'`: go-pipe's rule: a pipe error fails the pipeline when nothing else failed, unless
 *   a stage downstream of it finished early (`FinishEarly`) with only successes in between.
 *
 * Under both rules, `FinishEarly` is a success, and among the failures the one reported is
 * chosen by go-pipe's rule: walking the stages from the last, the earliest non-pipe failure
 * wins, and a pipe error is reported only when no other stage failed.
 */
export type ErrorRule = 'sluice' | 'go-pipe';

/**
 * Which results count as failures under `rule`, in stage order. A result with no error or a
 * `FinishEarly` never does; a non-pipe error always does; a pipe error does unless `rule`
 * forgives it (see {@link ErrorRule}). The pipeline fails exactly when one entry is true.
 */
export function failedStages(
  results: readonly { error: unknown }[],
  rule: ErrorRule = 'sluice',
): boolean[] {
  const failed = new Array<boolean>(results.length).fill(false);
  // 'sluice': whether every stage after i succeeded or was forgiven (none after the last).
  let downstreamOk = false;
  // 'go-pipe': the FinishEarly flag of go-pipe's walk.
  let finishedEarly = false;
  for (let i = results.length - 1; i >= 0; i--) {
    const err = results[i]!.error;
    let ok: boolean;
    if (err === undefined) {
      ok = true;
      finishedEarly = false;
    } else if (isFinishEarly(err)) {
      ok = true;
      finishedEarly = true;
    } else if (isPipeError(err)) {
      ok = rule === 'sluice' ? downstreamOk : finishedEarly;
    } else {
      ok = false;
    }
    failed[i] = !ok;
    downstreamOk = i === results.length - 1 ? ok : downstreamOk && ok;
  }
  return failed;
}

/**
 * The result a pipeline reports, or undefined when it succeeded under `rule` (default
 * `'go-pipe'`, this function's historical behaviour; pipelines default to `'sluice'`).
 *
 * go-pipe's choice among failures: walk the results in reverse; `FinishEarly` sets a flag that
 * forgives pipe errors upstream until a stage succeeds; a pipe error is kept only if nothing was
 * recorded yet; any other error overwrites, so the earliest one wins. Under `'sluice'` the same
 * walk runs with the forgiven pipe errors counted as successes, so it reports a result exactly
 * when one failed.
 */
export function chooseError<T extends { error: unknown }>(
  results: readonly T[],
  rule: ErrorRule = 'go-pipe',
): T | undefined {
  const failed = rule === 'sluice' ? failedStages(results, 'sluice') : undefined;
  let chosen: T | undefined;
  let finishedEarly = false;
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i]!;
    const err = failed && !failed[i] && !isFinishEarly(r.error) ? undefined : r.error;
    if (err === undefined) {
      finishedEarly = false;
    } else if (isFinishEarly(err)) {
      finishedEarly = true;
    } else if (isPipeError(err)) {
      if (!finishedEarly && chosen === undefined) chosen = r;
    } else {
      chosen = r;
    }
  }
  return chosen;
}
