/**
 * Typed errors of sluice/supervisor. `SupervisorError` is the part's one base class; a bad
 * option is an `InvalidOptionError` and a failed spawn a `SpawnError`, both from the OS layer,
 * as in every part.
 */
import { SluiceError } from '../proc/index.js';

/** Codes of `SupervisorError`. */
export type SupervisorErrorCode =
  /** `send()` was called while no process runs (stopped, exited, or between restarts). */
  | 'ERR_SLUICE_SUPERVISOR_NOT_RUNNING'
  /** `send()` was given something `JSON.stringify` cannot turn into one line of JSON. */
  | 'ERR_SLUICE_SUPERVISOR_NOT_SERIALIZABLE'
  /** `lines()` or `messages()` was called a second time: stdout has one line reader. */
  | 'ERR_SLUICE_SUPERVISOR_STDOUT_TAKEN';

/**
 * Misuse of a running `Child` (the base class of every supervisor error). Nothing is changed
 * when it is raised: the child keeps running.
 */
export class SupervisorError extends SluiceError {
  declare readonly code: SupervisorErrorCode;
  constructor(code: SupervisorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
