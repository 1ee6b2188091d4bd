/**
 * How a process ended: the one shape every part of sluice reports, for pipe stages, supervised
 * children and sessions alike.
 */

/**
 * Why a process ended, relative to what sluice did to it:
 * - `'natural'`: it exited on its own, before sluice began to stop it (a crash or a signal from
 *   someone else counts here too);
 * - `'eof'`: it exited after sluice closed its stdin, before any signal was sent;
 * - `'soft'`: it exited after the soft signal (SIGTERM by default), within the grace;
 * - `'hard'`: SIGKILL ended it, after the grace ran out.
 */
export type ExitOutcome = 'natural' | 'eof' | 'soft' | 'hard';

/**
 * How a process ended. Exactly one of `exitCode` and `signal` is non-null.
 *
 * @example
 * ```ts
 * const info: ExitInfo = await child.stop();
 * if (info.outcome === 'hard') console.warn('had to SIGKILL it');
 * ```
 */
export interface ExitInfo {
  /** The exit status, or null when a signal ended the process. */
  readonly exitCode: number | null;
  /** The signal that ended the process, or null when it exited. */
  readonly signal: NodeJS.Signals | null;
  /** What sluice had done to it when it ended. */
  readonly outcome: ExitOutcome;
}

/**
 * The one default for `graceMs`, the wait between the soft signal and SIGKILL, in every part:
 * 5 s, as execa's `forceKillAfterDelay` and the Go supervisor use. A server that flushes state on
 * SIGTERM needs more than a couple of seconds; a pipeline of well-behaved commands never waits it.
 */
export const DEFAULT_GRACE_MS = 5000;
