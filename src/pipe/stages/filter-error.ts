/**
 * Wrappers that change the error a stage reports (go-pipe's FilterError and IgnoreError).
 */
import { InvalidOptionError } from '../../proc/index.js';
import type { InputStream, OutputStream } from '../pipeline/streams.js';
import type { ErrorMatcher } from '../predicates.js';
import type { ExitInfo, ProcessStage, Stage, StageContext, WrapperStage } from '../stage.js';
import { processStageOf } from '../stage.js';

/**
 * Maps a stage's error to the error to report: return it, another error, or `undefined` to
 * report success. Called only when the stage failed.
 */
export type ErrorFilter = (error: unknown) => unknown;

/**
 * Wraps `stage` so that its error passes through `filter` when it waits. Everything else is the
 * wrapped stage's: its name, its preferences, its process (for memory watchers and `sluice run`),
 * and the pipeline's stage-error handler still reaches it (go-pipe v1 lost it here). Throws
 * `InvalidOptionError` when `filter` is not a function.
 *
 * @example
 * ```ts
 * // grep exits 1 when nothing matched: not an error here.
 * const grep = filterError(command('grep', ['x', file]), (e) => (isExitCode(1)(e) ? undefined : e));
 * ```
 */
export function filterError(stage: Stage, filter: ErrorFilter): Stage {
  if (typeof filter !== 'function')
    throw new InvalidOptionError('filter', 'filterError: must be a function');
  return new FilteredStage(stage, filter);
}

/**
 * Wraps `stage` so that an error matching `matcher` counts as success (go-pipe's IgnoreError).
 * Throws `InvalidOptionError` when `matcher` is not a function.
 *
 * @example
 * ```ts
 * const p = pipeline({ errorRule: 'go-pipe' })
 *   .add(ignoreError(command('yes'), isSigpipe), command('head', ['-1']));
 * ```
 */
export function ignoreError(stage: Stage, matcher: ErrorMatcher): Stage {
  if (typeof matcher !== 'function')
    throw new InvalidOptionError('matcher', 'ignoreError: must be a function');
  return new FilteredStage(stage, (e) => (matcher(e) ? undefined : e));
}

class FilteredStage implements WrapperStage, ProcessStage {
  readonly inner: Stage;
  readonly #filter: ErrorFilter;
  constructor(inner: Stage, filter: ErrorFilter) {
    this.inner = inner;
    this.#filter = filter;
  }
  get name(): string {
    return this.inner.name;
  }
  get preferences() {
    return this.inner.preferences;
  }
  get pid(): number | undefined {
    return processStageOf(this.inner)?.pid;
  }
  get exitInfo(): ExitInfo | undefined {
    return processStageOf(this.inner)?.exitInfo;
  }
  kill(reason: unknown): void {
    processStageOf(this.inner)?.kill(reason);
  }
  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void {
    this.inner.start(ctx, stdin, stdout);
  }
  async wait(): Promise<void> {
    try {
      await this.inner.wait();
    } catch (e) {
      const mapped = this.#filter(e);
      if (mapped !== undefined && mapped !== null) throw mapped;
    }
  }
}
