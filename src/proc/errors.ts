/**
 * Typed errors of the OS layer. Every error sluice's process layer raises for bad input is one of
 * these, so callers can branch on `code` without parsing messages.
 */

/** Base class of every error raised by `src/proc`. `code` is stable; the message is for people. */
export class ProcError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A pid or process-group id that can never name a single process or group of ours: not a safe
 * integer, zero, negative, 1 (init) or this process's own group. Raised before any signal is
 * sent, so `kill(0)` and `kill(-1)` cannot happen through this layer.
 */
export class InvalidPidError extends ProcError {
  readonly pid: unknown;
  constructor(pid: unknown, why: string) {
    super('ERR_INVALID_PID', `invalid pid ${String(pid)}: ${why}`);
    this.pid = pid;
  }
}

/** The pid or group names no live process (ESRCH). */
export class NoSuchProcessError extends ProcError {
  readonly pid: number;
  constructor(pid: number, what = 'process') {
    super('ERR_NO_SUCH_PROCESS', `no such ${what}: ${pid}`);
    this.pid = pid;
  }
}

/** The kernel refused to create a pipe (for example EMFILE: too many open files). */
export class PipeCreateError extends ProcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PIPE_CREATE', message, options);
  }
}
