/** Why a command could not be spawned, found at once (Node reports it only on the next tick). */
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { StageStartError } from '../errors.js';

/**
 * The `StageStartError` for a spawn that produced no pid. Node reports the real errno only on
 * the next tick, so it is found again here, at once: a missing or non-directory cwd; no fd left
 * (`EMFILE`/`ENFILE`, probed by opening /dev/null a few times); a command not found on PATH (`ENOENT`); one
 * found but not executable (`EACCES`); else the system refused a new process (`EAGAIN`).
 */
export function diagnoseSpawnFailure(
  name: string,
  file: string,
  cwd: string | undefined,
  env: NodeJS.ProcessEnv | undefined,
): StageStartError {
  if (cwd !== undefined) {
    try {
      if (!statSync(cwd).isDirectory()) {
        return new StageStartError(name, `cwd is not a directory: ${cwd}`, 'ENOTDIR', {
          reason: 'cwd',
        });
      }
    } catch {
      return new StageStartError(name, `cwd does not exist: ${cwd}`, 'ENOENT', {
        reason: 'cwd',
      });
    }
  }
  const fds = fdShortage();
  if (fds) {
    return new StageStartError(name, `cannot spawn ${file}: ${fds.what}`, fds.errno, {
      reason: 'resources',
    });
  }
  const candidates = file.includes('/')
    ? [resolve(cwd ?? process.cwd(), file)]
    : ((env ?? process.env).PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, file));
  let exists = false;
  let executable: string | undefined;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      exists = true;
      accessSync(c, constants.X_OK);
      executable = c;
      break;
    } catch {}
  }
  if (executable !== undefined) {
    const interpreter = missingInterpreter(executable);
    if (interpreter !== undefined) {
      return new StageStartError(name, `bad interpreter: ${interpreter} (in ${file})`, 'ENOENT', {
        reason: 'command',
      });
    }
    // Found and executable, fds to spare: the kernel refused the process itself.
    return new StageStartError(
      name,
      `cannot spawn ${file}: the system refused a new process (EAGAIN)`,
      'EAGAIN',
      { reason: 'resources' },
    );
  }
  if (exists) {
    return new StageStartError(name, `permission denied: ${file}`, 'EACCES', {
      reason: 'command',
    });
  }
  return new StageStartError(name, `command not found: ${file}`, 'ENOENT', {
    reason: 'command',
  });
}

/**
 * fds a spawn needs beyond its stdio: libuv's exec-error pipe and a socketpair per `'pipe'` slot.
 * A failed spawn has already given back what it took, so the table is probed for this many.
 */
const SPAWN_FDS = 8;

/**
 * Whether this process (EMFILE) or the system (ENFILE) is too short of fds for a spawn right
 * now: opens /dev/null up to `SPAWN_FDS` times, then closes what it opened.
 */
function fdShortage(): { errno: string; what: string } | undefined {
  const opened: number[] = [];
  try {
    for (let i = 0; i < SPAWN_FDS; i++) opened.push(openSync('/dev/null', 'r'));
    return undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EMFILE')
      return { errno: code, what: 'too many open files in this process (EMFILE)' };
    if (code === 'ENFILE')
      return { errno: code, what: 'too many open files in the system (ENFILE)' };
    return undefined;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

/** The `#!` interpreter of `path` when it names a file that does not exist, else undefined. */
function missingInterpreter(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('latin1');
    if (!text.startsWith('#!')) return undefined;
    const interpreter = text.slice(2).split('\n')[0]!.trim().split(/\s+/)[0];
    if (!interpreter) return undefined;
    try {
      statSync(interpreter);
      return undefined;
    } catch {
      return interpreter;
    }
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
