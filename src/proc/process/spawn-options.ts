/**
 * Checking `spawnGroup` options before anything is created, and turning a failed spawn into a
 * typed `SpawnError`. Nothing here allocates an fd or a process.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { InvalidOptionError, SpawnError, type SpawnErrorCode } from '../errors.js';
import type { SpawnGroupOptions } from './spawn-types.js';

function fail(
  code: SpawnErrorCode,
  message: string,
  o: Pick<SpawnGroupOptions, 'argv' | 'cwd'>,
  errno?: string,
  cause?: unknown,
): SpawnError {
  return new SpawnError(code, message, {
    argv: [...o.argv],
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    ...(errno === undefined ? {} : { errno }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function checkSlot(slot: unknown, i: number, o: SpawnGroupOptions): void {
  if (slot === 'pipe' || slot === 'ignore' || slot === 'inherit') return;
  if (i === 2 && slot === 'stdout') {
    if (o.stdio?.[1] !== 'pipe') {
      throw new InvalidOptionError('stdio[2]', "'stdout' needs stdout (stdio[1]) to be 'pipe'");
    }
    return;
  }
  if (typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0) return;
  throw new InvalidOptionError(
    `stdio[${i}]`,
    `must be 'pipe', 'ignore', 'inherit' or an fd, got ${String(slot)}`,
  );
}

function checkOnRead(onRead: unknown): void {
  if (onRead === null || typeof onRead !== 'object') {
    throw new InvalidOptionError('onRead', 'must be an object with stdout and/or stderr');
  }
  for (const name of ['stdout', 'stderr'] as const) {
    const r = (onRead as Record<string, unknown>)[name] as
      | { buffer?: unknown; callback?: unknown }
      | undefined;
    if (r === undefined) continue;
    if (
      r === null ||
      typeof r !== 'object' ||
      !(
        typeof r.buffer === 'function' ||
        (r.buffer instanceof Uint8Array && r.buffer.length > 0)
      ) ||
      typeof r.callback !== 'function'
    ) {
      throw new InvalidOptionError(
        `onRead.${name}`,
        'must be { buffer: a non-empty Uint8Array or a function returning one, callback: a function }',
      );
    }
  }
}

/**
 * Throws `InvalidOptionError` for malformed options (nothing is created), and `SpawnError`
 * (`ERR_SLUICE_SPAWN_BAD_CWD`) for a cwd that does not exist or cannot be entered.
 */
export function validate(o: SpawnGroupOptions): void {
  if (o === null || typeof o !== 'object') {
    throw new InvalidOptionError('options', 'spawn options must be an object');
  }
  checkArgv(o.argv);
  if (o.stdio !== undefined) {
    if (!Array.isArray(o.stdio) || o.stdio.length !== 3) {
      throw new InvalidOptionError('stdio', 'must list exactly three slots');
    }
    for (const [i, s] of o.stdio.entries()) checkSlot(s, i, o);
  }
  if (o.onRead !== undefined) checkOnRead(o.onRead);
  if (o.drainMs !== undefined && !(Number.isFinite(o.drainMs) && o.drainMs >= 0)) {
    throw new InvalidOptionError('drainMs', `must be a finite number >= 0, got ${o.drainMs}`);
  }
  if (o.cwd !== undefined) {
    if (typeof o.cwd !== 'string' || o.cwd === '' || o.cwd.includes('\0')) {
      throw new InvalidOptionError('cwd', `is not a usable path: ${JSON.stringify(o.cwd)}`);
    }
    checkUsableCwd(o.cwd, o.argv, o.cwd);
  }
}

/**
 * Throws `InvalidOptionError` unless `argv` is a non-empty array of strings without NUL whose
 * first element (the program) is not empty. The one argv check of every spawn (pipe sessions
 * through `spawnGroup`, PTY sessions before their fork).
 */
export function checkArgv(argv: unknown): asserts argv is string[] {
  if (!Array.isArray(argv)) throw new InvalidOptionError('argv', 'must be an array of strings');
  if (argv.length === 0 || argv[0] === '') {
    throw new InvalidOptionError('argv', 'is empty: nothing to run');
  }
  for (const [i, a] of argv.entries()) {
    if (typeof a !== 'string') throw new InvalidOptionError(`argv[${i}]`, 'is not a string');
    if (a.includes('\0')) throw new InvalidOptionError(`argv[${i}]`, 'holds a NUL byte');
  }
}

/**
 * Throws `SpawnError` with code `ERR_SLUICE_SPAWN_BAD_CWD` (its errno, and the system error as
 * its cause) unless `cwd` is a directory this process may enter. `argv` and `shownCwd` (the cwd
 * the caller was given, if any) go into the error's details. Creates nothing.
 */
export function checkUsableCwd(cwd: string, argv: readonly string[], shownCwd?: string): void {
  const o = { argv: [...argv], ...(shownCwd === undefined ? {} : { cwd: shownCwd }) };
  try {
    if (!statSync(cwd).isDirectory()) {
      throw fail('ERR_SLUICE_SPAWN_BAD_CWD', `cwd is not a directory: ${cwd}`, o, 'ENOTDIR');
    }
    accessSync(cwd, constants.X_OK);
  } catch (e) {
    if (e instanceof SpawnError) throw e;
    const errno = (e as NodeJS.ErrnoException).code;
    throw fail(
      'ERR_SLUICE_SPAWN_BAD_CWD',
      `cannot use cwd ${cwd}: ${errno ?? String(e)}`,
      o,
      errno,
      e,
    );
  }
}

/**
 * Lays `overlay` over `env` in place: each key set to its string, or removed where its value is
 * `undefined`. Throws `InvalidOptionError` (changing nothing when `overlay` is not an object)
 * for a key the kernel cannot carry (empty, holding `=` or NUL) or a value that is not a string
 * without NUL. The one check every part applies to a child's environment.
 */
export function overlayEnv(
  env: Record<string, string | undefined>,
  overlay: Readonly<Record<string, string | undefined>>,
): void {
  if (overlay === null || typeof overlay !== 'object') {
    throw new InvalidOptionError('env', 'must be an object of strings');
  }
  for (const [k, v] of Object.entries(overlay)) {
    if (k === '' || k.includes('=') || k.includes('\0')) {
      throw new InvalidOptionError('env', `key ${JSON.stringify(k)} is not a valid name`);
    }
    if (v === undefined) delete env[k];
    else if (typeof v !== 'string' || v.includes('\0')) {
      throw new InvalidOptionError(`env.${k}`, 'must be a string without NUL');
    } else env[k] = v;
  }
}

/**
 * The child's environment: this process's, with `env` laid over it (or `env` alone with
 * `inheritEnv: false`); undefined when it is exactly this process's. Throws `InvalidOptionError`
 * for a key or value the kernel cannot carry.
 */
export function buildEnv(o: SpawnGroupOptions): NodeJS.ProcessEnv | undefined {
  if (o.env === undefined && o.inheritEnv !== false) return undefined;
  const env: NodeJS.ProcessEnv = o.inheritEnv === false ? {} : { ...process.env };
  if (o.env !== undefined) overlayEnv(env, o.env);
  return env;
}

/** The errno of a failed spawn or pipe creation (Node's `code`, or a `PipeCreateError`'s). */
function errnoOf(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const own = (e as { errno?: unknown }).errno;
  if (typeof own === 'string') return own;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps a failed spawn (or a failed pipe for it) to a typed error; a vanished cwd is told apart
 * from a missing binary. An `InvalidOptionError` is returned as it is.
 */
export function classify(e: unknown, o: SpawnGroupOptions): SpawnError | InvalidOptionError {
  if (e instanceof SpawnError || e instanceof InvalidOptionError) return e;
  const errno = errnoOf(e);
  const bin = o.argv[0];
  if (errno === 'ENOENT' || errno === 'ENOTDIR') {
    if (o.cwd !== undefined) {
      try {
        checkUsableCwd(o.cwd, o.argv, o.cwd);
      } catch (bad) {
        return bad as SpawnError; // the cwd vanished since validation
      }
    }
    return fail('ERR_SLUICE_SPAWN_NOT_FOUND', `command not found: ${bin}`, o, errno, e);
  }
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EISDIR') {
    return fail('ERR_SLUICE_SPAWN_PERMISSION', `permission denied: ${bin}`, o, errno, e);
  }
  if (errno === 'EMFILE' || errno === 'ENFILE' || errno === 'EAGAIN' || errno === 'ENOMEM') {
    const why =
      errno === 'EMFILE'
        ? 'too many open files in this process'
        : errno === 'ENFILE'
          ? 'too many open files in the system'
          : errno === 'EAGAIN'
            ? 'too many processes'
            : 'out of memory';
    return fail(
      'ERR_SLUICE_SPAWN_RESOURCES',
      `cannot spawn ${bin}: ${errno} (${why})`,
      o,
      errno,
      e,
    );
  }
  if (errno === 'ERR_INVALID_ARG_TYPE' || errno === 'ERR_INVALID_ARG_VALUE') {
    return new InvalidOptionError('argv', `cannot spawn ${bin}: ${String(e)}`, { cause: e });
  }
  return fail('ERR_SLUICE_SPAWN_FAILED', `cannot spawn ${bin}: ${errno ?? String(e)}`, o, errno, e);
}
