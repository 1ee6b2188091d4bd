/**
 * The error vocabulary every part of sluice shares, and the typed errors of the OS layer.
 *
 * - Every error sluice raises is a {@link SluiceError}: it has a stable `code` of the form
 *   `ERR_SLUICE_<AREA>_<WHAT>` (for example `ERR_SLUICE_PIPE_COMMAND_FAILED`), a message for
 *   people, and its `cause` chained with the standard `cause` option.
 * - Each part has one base class (`ProcError`, `PipeError`, `FlowError`, `SupervisorError`,
 *   `SessionsError`, `ClusterError`) that extends `SluiceError`.
 * - A bad option is an {@link InvalidOptionError} in every part.
 * - `instanceof` works across two copies of the package (two versions in one `node_modules`
 *   tree): each instance carries a `Symbol.for('sluice.error')` brand listing its class names,
 *   and every sluice error class checks that brand, as undici does.
 */

const brandKey: unique symbol = Symbol.for('sluice.error') as never;

type Branded = { [brandKey]?: readonly string[] };

/**
 * Base class of every error sluice raises. `code` is stable across versions; the message is for
 * people and may change.
 *
 * @example
 * ```ts
 * try { await pipeline().add(command('false')).run(); }
 * catch (error) { if (error instanceof SluiceError) console.error(error.code); }
 * ```
 */
export class SluiceError extends Error {
  /** Stable machine-readable code, `ERR_SLUICE_<AREA>_<WHAT>`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    const names: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; ) {
      names.push((c as { name: string }).name);
      c = Object.getPrototypeOf(c);
    }
    Object.defineProperty(this, brandKey, { value: names, enumerable: false });
  }

  /**
   * True for instances of this class made by any copy of sluice: the class's name must appear in
   * the instance's brand. Falls back to the ordinary prototype check first.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    // `this` is the class `instanceof` was asked about (a subclass too), not SluiceError.
    // biome-ignore lint/complexity/noThisInStatic: the check must be per subclass
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const names = (value as Branded)[brandKey];
    // biome-ignore lint/complexity/noThisInStatic: the check must be per subclass
    return Array.isArray(names) && names.includes(this.name);
  }
}

/**
 * A bad option or argument, in any part of sluice: a value of the wrong type or out of range,
 * found before anything was started, so nothing is left behind. `option` names it.
 */
export class InvalidOptionError extends SluiceError {
  /** The option or argument that was wrong, as the caller wrote it (`'graceMs'`, `'argv[0]'`). */
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('ERR_SLUICE_INVALID_OPTION', `${option}: ${message}`, options);
    this.option = option;
  }
}

/** Base class of every error raised by the OS layer (`src/proc`). */
export class ProcError extends SluiceError {}

/**
 * A pid or process-group id that can never name a single process or group of ours: not a safe
 * integer, zero, negative, 1 (init) or this process's own group. Raised before any signal is
 * sent, so `kill(0)` and `kill(-1)` cannot happen through this layer.
 */
export class InvalidPidError extends ProcError {
  readonly pid: unknown;
  constructor(pid: unknown, why: string) {
    super('ERR_SLUICE_PROC_INVALID_PID', `invalid pid ${String(pid)}: ${why}`);
    this.pid = pid;
  }
}

/** The pid or group names no live process (ESRCH). */
export class NoSuchProcessError extends ProcError {
  readonly pid: number;
  constructor(pid: number, what = 'process') {
    super('ERR_SLUICE_PROC_NO_SUCH_PROCESS', `no such ${what}: ${pid}`);
    this.pid = pid;
  }
}

/**
 * The kernel refused to create a pipe (for example EMFILE: too many open files). `errno` names
 * the system error (`'EMFILE'`, `'ENFILE'`, …) when one is known.
 */
export class PipeCreateError extends ProcError {
  /** The system error behind it (`'EMFILE'`, `'ENFILE'`, …), when known. */
  readonly errno: string | undefined;
  constructor(message: string, options?: { cause?: unknown; errno?: string }) {
    super(
      'ERR_SLUICE_PROC_PIPE_CREATE',
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.errno = options?.errno;
  }
}

/** Why a spawn failed: the `code` of a {@link SpawnError}. */
export type SpawnErrorCode =
  /** The binary does not exist (ENOENT), on `PATH` or at the path given. */
  | 'ERR_SLUICE_SPAWN_NOT_FOUND'
  /** The binary exists but cannot be executed (EACCES, EPERM; also a directory). */
  | 'ERR_SLUICE_SPAWN_PERMISSION'
  /** `cwd` does not exist, is not a directory or cannot be entered. */
  | 'ERR_SLUICE_SPAWN_BAD_CWD'
  /** The system is out of fds, processes or memory (EMFILE, ENFILE, EAGAIN, ENOMEM). */
  | 'ERR_SLUICE_SPAWN_RESOURCES'
  /** Anything else the kernel or Node refused. */
  | 'ERR_SLUICE_SPAWN_FAILED';

/**
 * A child could not be started, for a reason found at spawn time (a malformed argument is an
 * {@link InvalidOptionError} instead, found before anything is created). When a spawn rejects
 * with it nothing is left behind: no process, no fd of ours, no handle. Fds the caller passed in
 * `stdio` stay the caller's to close. Retrying makes sense for `ERR_SLUICE_SPAWN_RESOURCES` once
 * fds or processes have been freed.
 */
export class SpawnError extends ProcError {
  declare readonly code: SpawnErrorCode;
  /** The argv that was asked for. */
  readonly argv: readonly string[];
  /** The working directory asked for, if any. */
  readonly cwd: string | undefined;
  /** The system error code behind it (`'ENOENT'`, `'EACCES'`, `'EMFILE'`, …), when there is one. */
  readonly errno: string | undefined;
  constructor(
    code: SpawnErrorCode,
    message: string,
    details: { argv: readonly string[]; cwd?: string; errno?: string; cause?: unknown },
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.argv = details.argv;
    this.cwd = details.cwd;
    this.errno = details.errno;
  }
}

/**
 * What user code threw when it was not an `Error`: sluice's panic, one rule in every part. A
 * deliberate failure is an `Error` and is passed through as it is; anything else thrown (a
 * string, `undefined`, `null`, a plain object) is treated as a bug, wrapped here, and always
 * counts as a failure, never as success. `value` is what was thrown; `cause` is the same.
 */
export class PanicError extends SluiceError {
  /** The value that was thrown. */
  readonly value: unknown;
  constructor(value: unknown, where = 'user code') {
    super('ERR_SLUICE_PANIC', `${where} threw a non-Error value: ${describeThrown(value)}`, {
      cause: value,
    });
    this.value = value;
  }
}

/** A short, never-throwing description of a thrown value for an error message. */
function describeThrown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The error for anything thrown: an `Error` as it is, any other value wrapped in a
 * {@link PanicError}. `panicked` says which.
 */
export function toError(thrown: unknown, where?: string): { error: Error; panicked: boolean } {
  if (thrown instanceof Error) return { error: thrown, panicked: false };
  return { error: new PanicError(thrown, where), panicked: true };
}
