/**
 * Typed errors of sluice/supervisor. Like the OS layer's, each has a stable `code` to branch on;
 * the message is one line for people.
 */
import { ProcError } from '../proc/index.js';

/** Why a spawn failed. */
export type SpawnErrorCode =
  /** `argv` is empty or its first word is the empty string. */
  | 'ERR_SPAWN_EMPTY_ARGV'
  /** An argument or option is malformed (not a string, holds a NUL byte, a bad stdio slot, …). */
  | 'ERR_SPAWN_INVALID_ARGUMENT'
  /** The binary does not exist (ENOENT), on `PATH` or at the path given. */
  | 'ERR_SPAWN_NOT_FOUND'
  /** The binary exists but cannot be executed (EACCES, EPERM; also a directory). */
  | 'ERR_SPAWN_PERMISSION'
  /** `cwd` does not exist, is not a directory or cannot be entered. */
  | 'ERR_SPAWN_BAD_CWD'
  /** The system is out of fds or processes (EMFILE, ENFILE, EAGAIN). */
  | 'ERR_SPAWN_RESOURCES'
  /** Anything else the kernel or Node refused. */
  | 'ERR_SPAWN_FAILED';

/**
 * A child could not be started. When it is thrown (or a spawn promise rejects with it) nothing is
 * left behind: no process, no fd of ours, no handle. Fds the caller passed in `stdio` stay the
 * caller's to close.
 */
export class SpawnError extends ProcError {
  declare readonly code: SpawnErrorCode;
  /** The argv that was asked for (as given, possibly malformed). */
  readonly argv: readonly unknown[];
  /** The working directory asked for, if any. */
  readonly cwd: string | undefined;
  /** The system error code behind it (`ENOENT`, `EACCES`, …), when there is one. */
  readonly errno: string | undefined;
  constructor(
    code: SpawnErrorCode,
    message: string,
    details: { argv: readonly unknown[]; cwd?: string; errno?: string; cause?: unknown },
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.argv = details.argv;
    this.cwd = details.cwd;
    this.errno = details.errno;
  }
}

/** Codes of `SupervisorError`. */
export type SupervisorErrorCode =
  /** A `supervise()` option is malformed (a negative grace, a restart policy that is not one). */
  | 'ERR_SUPERVISOR_CONFIG'
  /** `send()` was called while no process runs (stopped, exited, or between restarts). */
  | 'ERR_NOT_RUNNING'
  /** `send()` was given something `JSON.stringify` cannot turn into one line of JSON. */
  | 'ERR_NOT_SERIALIZABLE'
  /** `lines()` or `messages()` was called a second time: stdout has one line reader. */
  | 'ERR_STDOUT_TAKEN';

/** Misuse of a `Child` or a bad `supervise()` config. */
export class SupervisorError extends ProcError {
  declare readonly code: SupervisorErrorCode;
  constructor(code: SupervisorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
