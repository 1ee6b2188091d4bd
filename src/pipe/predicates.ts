/**
 * Error predicates (go-pipe's ErrorMatchers): functions from an error to a boolean, for
 * `ignoreError` and for callers inspecting a `PipelineError`. Each looks through `cause` chains,
 * as Go's errors.Is does through wrapping.
 */
import { CommandError, FinishEarly } from './errors.js';

/** A predicate over errors. */
export type ErrorMatcher = (error: unknown) => boolean;

const PIPE_CODES = new Set([
  'EPIPE',
  'ERR_SLUICE_PIPE_CLOSED',
  // The code sluice 0.1 used, so errors from an older copy still count.
  'ERR_CLOSED_PIPE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Calls `test` on `error` and each `cause` below it (at most 32 deep); true if any matched. */
export function someCause(error: unknown, test: (e: unknown) => boolean): boolean {
  let e = error;
  for (let depth = 0; depth < 32 && e !== undefined && e !== null; depth++) {
    if (test(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A command killed by SIGPIPE: it wrote after its reader had gone (as `yes` in `yes | head -1`). */
export const isSigpipe: ErrorMatcher = (error) =>
  someCause(error, (e) => e instanceof CommandError && e.signal === 'SIGPIPE');

/**
 * Any "the reader went away" error: SIGPIPE, EPIPE, a write into a closed in-memory pipe
 * (`ClosedPipeError`), a write into a destroyed stream, a stream closed early. These are what
 * upstream stages get when a downstream stage stops reading, so pipelines treat them as less
 * important than any other error.
 */
export const isPipeError: ErrorMatcher = (error) =>
  someCause(error, (e) => {
    if (e instanceof CommandError) return e.signal === 'SIGPIPE';
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && PIPE_CODES.has(code);
  });

/** A command killed by `signal` (`'SIGTERM'`, `'SIGKILL'`, …). */
export function isSignal(signal: NodeJS.Signals): ErrorMatcher {
  return (error) => someCause(error, (e) => e instanceof CommandError && e.signal === signal);
}

/** A command that exited with status `code` (any non-zero status when `code` is omitted). */
export function isExitCode(code?: number): ErrorMatcher {
  return (error) =>
    someCause(
      error,
      (e) =>
        e instanceof CommandError &&
        e.exitCode !== null &&
        (code === undefined ? e.exitCode !== 0 : e.exitCode === code),
    );
}

/** `FinishEarly`, thrown as the class or as an instance. */
export const isFinishEarly: ErrorMatcher = (error) =>
  someCause(error, (e) => e === FinishEarly || e instanceof FinishEarly);

/** Matches when any of `matchers` does (go-pipe's AnyError). */
export function anyError(...matchers: ErrorMatcher[]): ErrorMatcher {
  return (error) => matchers.some((m) => m(error));
}

/** Matches `target` itself anywhere in the cause chain (go-pipe's IsError). */
export function isError(target: unknown): ErrorMatcher {
  return (error) => someCause(error, (e) => e === target);
}
