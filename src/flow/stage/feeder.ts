/**
 * A pipe stage's feeder: reads the source to its end (source ownership), submits ok values to the
 * stage and forwards error results straight to the output (the data plane; a forwarded error
 * never triggers fail-fast). Once the stage stopped (fail-fast or its signal) the feeder keeps
 * reading but drops everything, so upstream can always finish. Internal to flow.
 */

import { ClosedError } from '../errors.js';
import { err, type Result } from '../result.js';
import { invalid } from '../validate.js';
import type { StageCore } from './core.js';

/** Anything a pipe can read: an async iterable of results, or a sync one. */
export type Source<T> = AsyncIterable<Result<T>> | Iterable<Result<T>>;

/** The source's iterator (operators await each step, sync or not). */
export function iteratorOf<T>(source: Source<T>): AsyncIterator<Result<T>> | Iterator<Result<T>> {
  return sourceIterator(source).it;
}

/** The source's iterator, and whether it is a sync one. */
export function sourceIterator<T>(source: Source<T>): {
  it: AsyncIterator<Result<T>> | Iterator<Result<T>>;
  sync: boolean;
} {
  if (source !== null && typeof source === 'object') {
    const a = (source as AsyncIterable<Result<T>>)[Symbol.asyncIterator];
    if (typeof a === 'function') return { it: a.call(source), sync: false };
    const s = (source as Iterable<Result<T>>)[Symbol.iterator];
    if (typeof s === 'function') return { it: s.call(source), sync: true };
  }
  throw invalid('source', 'must be an AsyncIterable or Iterable of Result', source);
}

/** Synchronous steps a feeder takes from a sync source before it yields to other work. */
const SYNC_BURST = 256;

/**
 * The feeder loop. A sync source is read synchronously for as long as items go straight in
 * (up to SYNC_BURST steps between yields); an async one is awaited step by step.
 */
export async function feed<T, R>(
  core: StageCore<T, R>,
  it: AsyncIterator<Result<T>> | Iterator<Result<T>>,
  sync: boolean,
): Promise<void> {
  let burst = 0;
  try {
    for (;;) {
      let step: IteratorResult<Result<T>>;
      try {
        if (sync) {
          if (++burst >= SYNC_BURST) {
            burst = 0;
            await null;
          }
          step = (it as Iterator<Result<T>>).next();
        } else {
          step = await it.next();
        }
      } catch (error) {
        // A source that throws has ended; its error travels on as one more error result.
        core.received++;
        await forwardOrDrop(core, err(error));
        return;
      }
      if (step.done) return;
      core.received++;
      const r = step.value;
      if (core.stopped) {
        core.dropped++;
        continue;
      }
      if (!r.ok) {
        await forwardOrDrop(core, r as Result<never>);
        continue;
      }
      if (core.tryAdmit(r.value)) continue;
      try {
        await core.submit(r.value, undefined);
        // It had to wait: the queue is full. Refill it in bursts, not one slot at a time.
        if (core.capacity > 1) await core.lowWater();
      } catch (error) {
        // Closed: the item is dropped. Refused for itself (weight): it travels on as an error.
        if (error instanceof ClosedError || core.stopped) core.dropped++;
        else await forwardOrDrop(core, err(error));
      }
    }
  } finally {
    core.feederDone();
  }
}

async function forwardOrDrop<T, R>(core: StageCore<T, R>, r: Result<never>): Promise<void> {
  if (await core.forward(r)) core.forwarded++;
  else core.dropped++;
}
