/**
 * Checking `spawnGroup` options before anything is created, and turning a failed spawn into a
 * typed `SpawnError`. Nothing here allocates an fd or a process.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { SpawnError, type SpawnErrorCode } from './errors.js';
import type { SpawnGroupOptions } from './process.js';

function fail(
  code: SpawnErrorCode,
  message: string,
  o: SpawnGroupOptions,
  errno?: string,
  cause?: unknown,
): SpawnError {
  const argv = Array.isArray(o?.argv) ? o.argv : [];
  const cwd = typeof o?.cwd === 'string' ? o.cwd : undefined;
  return new SpawnError(code, message, {
    argv,
    ...(cwd === undefined ? {} : { cwd }),
    ...(errno === undefined ? {} : { errno }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function checkSlot(slot: unknown, i: number, o: SpawnGroupOptions): void {
  if (slot === 'pipe' || slot === 'ignore' || slot === 'inherit') return;
  if (i === 2 && slot === 'stdout') {
    if (o.stdio?.[1] !== 'pipe') {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', "stderr 'stdout' needs stdout 'pipe'", o);
    }
    return;
  }
  if (typeof slot === 'number' && Number.isSafeInteger(slot) && slot >= 0) return;
  throw fail('ERR_SPAWN_INVALID_ARGUMENT', `stdio[${i}] is not a valid slot: ${String(slot)}`, o);
}

export function validate(o: SpawnGroupOptions): void {
  if (o === null || typeof o !== 'object') {
    throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'spawn options must be an object', o);
  }
  const { argv } = o;
  if (!Array.isArray(argv)) {
    throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'argv must be an array of strings', o);
  }
  if (argv.length === 0 || argv[0] === '') {
    throw fail('ERR_SPAWN_EMPTY_ARGV', 'argv is empty: nothing to run', o);
  }
  for (const [i, a] of argv.entries()) {
    if (typeof a !== 'string') {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', `argv[${i}] is not a string`, o);
    }
    if (a.includes('\0')) {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', `argv[${i}] holds a NUL byte`, o);
    }
  }
  if (o.stdio !== undefined) {
    if (!Array.isArray(o.stdio) || o.stdio.length !== 3) {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'stdio must list exactly three slots', o);
    }
    for (const [i, s] of o.stdio.entries()) checkSlot(s, i, o);
  }
  if (o.drainMs !== undefined && !(Number.isFinite(o.drainMs) && o.drainMs >= 0)) {
    throw fail('ERR_SPAWN_INVALID_ARGUMENT', `drainMs must be >= 0, got ${o.drainMs}`, o);
  }
  if (o.cwd !== undefined) {
    if (typeof o.cwd !== 'string' || o.cwd === '' || o.cwd.includes('\0')) {
      throw fail('ERR_SPAWN_BAD_CWD', `cwd is not a usable path: ${JSON.stringify(o.cwd)}`, o);
    }
    checkCwd(o);
  }
}

function checkCwd(o: SpawnGroupOptions): void {
  const cwd = o.cwd!;
  try {
    if (!statSync(cwd).isDirectory()) {
      throw fail('ERR_SPAWN_BAD_CWD', `cwd is not a directory: ${cwd}`, o, 'ENOTDIR');
    }
    accessSync(cwd, constants.X_OK);
  } catch (e) {
    if (e instanceof SpawnError) throw e;
    const errno = (e as NodeJS.ErrnoException).code;
    throw fail('ERR_SPAWN_BAD_CWD', `cannot use cwd ${cwd}: ${errno ?? String(e)}`, o, errno, e);
  }
}

export function buildEnv(o: SpawnGroupOptions): NodeJS.ProcessEnv | undefined {
  if (o.env === undefined && o.inheritEnv !== false) return undefined;
  const env: NodeJS.ProcessEnv = o.inheritEnv === false ? {} : { ...process.env };
  if (o.env !== undefined) {
    if (o.env === null || typeof o.env !== 'object') {
      throw fail('ERR_SPAWN_INVALID_ARGUMENT', 'env must be an object of strings', o);
    }
    for (const [k, v] of Object.entries(o.env)) {
      if (k === '' || k.includes('=') || k.includes('\0')) {
        throw fail('ERR_SPAWN_INVALID_ARGUMENT', `env key ${JSON.stringify(k)} is not valid`, o);
      }
      if (v === undefined) delete env[k];
      else if (typeof v !== 'string' || v.includes('\0')) {
        throw fail('ERR_SPAWN_INVALID_ARGUMENT', `env ${k} must be a string without NUL`, o);
      } else env[k] = v;
    }
  }
  return env;
}

/** Maps a failed spawn to a typed error; a vanished cwd is told apart from a missing binary. */
export function classify(e: unknown, o: SpawnGroupOptions): SpawnError {
  const errno = (e as NodeJS.ErrnoException)?.code;
  const bin = o.argv[0];
  if (errno === 'ENOENT' || errno === 'ENOTDIR') {
    if (o.cwd !== undefined) checkCwd(o); // throws ERR_SPAWN_BAD_CWD when that was the cause
    return fail('ERR_SPAWN_NOT_FOUND', `command not found: ${bin}`, o, errno, e);
  }
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EISDIR') {
    return fail('ERR_SPAWN_PERMISSION', `permission denied: ${bin}`, o, errno, e);
  }
  if (errno === 'EMFILE' || errno === 'ENFILE' || errno === 'EAGAIN' || errno === 'ENOMEM') {
    return fail('ERR_SPAWN_RESOURCES', `cannot spawn ${bin}: ${errno}`, o, errno, e);
  }
  if (errno === 'ERR_INVALID_ARG_TYPE' || errno === 'ERR_INVALID_ARG_VALUE') {
    return fail('ERR_SPAWN_INVALID_ARGUMENT', `cannot spawn ${bin}: ${String(e)}`, o, errno, e);
  }
  return fail('ERR_SPAWN_FAILED', `cannot spawn ${bin}: ${errno ?? String(e)}`, o, errno, e);
}
