/**
 * An upstream error a `startFrom` stage forwards straight to its output, waiting there like a
 * worker's result until a reader takes it (or the stage drops it on cancel). Internal to flow.
 */
import type { Result } from '../result.js';
import type { Holder } from './output.js';

/** One forwarded error result; `settle` learns whether it was taken (true) or dropped. */
export class Forward<R> implements Holder<R> {
  result: Result<R> | undefined;
  constructor(
    result: Result<R>,
    private readonly settle: (delivered: boolean) => void,
  ) {
    this.result = result;
  }
  taken(): void {
    this.settle(true);
  }
  drop(): void {
    this.result = undefined;
    this.settle(false);
  }
}
