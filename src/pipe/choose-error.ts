/** go-pipe's rule for which stage error a pipeline reports. */
import { isFinishEarly, isPipeError } from './predicates.js';

/**
 * go-pipe's error choice over stage results in stage order: walk them in reverse; `FinishEarly`
 * sets a flag that forgives pipe errors upstream until a stage succeeds; a pipe error is kept
 * only if nothing was recorded yet; any other error overwrites, so the earliest one wins.
 */
export function chooseError<T extends { error: unknown }>(results: readonly T[]): T | undefined {
  let chosen: T | undefined;
  let finishedEarly = false;
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i]!;
    const err = r.error;
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
