/** Why a command could not be spawned, found at once (Node reports it only on the next tick). */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { StageStartError } from './errors.js';

/**
 * The `StageStartError` for a spawn that produced no pid: a missing or non-directory cwd, a
 * command not found on PATH (ENOENT), or one found but not executable (EACCES).
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
  const candidates = file.includes('/')
    ? [resolve(cwd ?? process.cwd(), file)]
    : ((env ?? process.env).PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, file));
  let exists = false;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      exists = true;
      accessSync(c, constants.X_OK);
    } catch {}
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
