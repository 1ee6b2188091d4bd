/**
 * What a PTY spawn checks before forking. node-pty's fork reports a missing program only from
 * inside the child (it prints "execvp(3) failed" and exits 1), so the program is looked up here,
 * on the child's PATH, and a bad program or cwd is a typed `SpawnError` with nothing started —
 * the same errors a pipe session gets from proc's `spawnGroup`; a malformed argument (argv, env)
 * is an `InvalidOptionError`, as there. Also the size check and the code of a failed fork.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import {
  checkArgv,
  checkUsableCwd,
  InvalidOptionError,
  overlayEnv,
  SpawnError,
  type SpawnErrorCode,
} from '../../proc/index.js';
import type { PtySize, SpawnSessionOptions } from './types.js';

/** Variables that would confuse a program about which terminal it runs in (as node-pty drops). */
const TERMINAL_VARS = [
  'TMUX',
  'TMUX_PANE',
  'STY',
  'WINDOW',
  'WINDOWID',
  'TERMCAP',
  'COLUMNS',
  'LINES',
];

function fail(
  o: SpawnSessionOptions,
  code: SpawnErrorCode,
  message: string,
  errno?: string,
): SpawnError {
  return new SpawnError(code, message, {
    argv: Array.isArray(o.argv) ? [...o.argv] : [],
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    ...(errno === undefined ? {} : { errno }),
  });
}

/**
 * Validates argv and cwd with `spawnGroup`'s own checks: a malformed argv is an
 * `InvalidOptionError`, a cwd that cannot be used a `SpawnError`.
 */
export function checkArgvAndCwd(o: SpawnSessionOptions, cwd: string): void {
  checkArgv(o.argv);
  if (cwd.includes('\0')) throw new InvalidOptionError('cwd', 'holds a NUL byte');
  checkUsableCwd(cwd, o.argv, o.cwd);
}

/**
 * The child's environment: this process's (unless `inheritEnv: false`) with `env` laid over it
 * (`undefined` removes a key), terminal variables of this process's own terminal dropped, `TERM`
 * set (option `term`, else `env.TERM`, else `xterm-256color`) and `PWD` the cwd.
 */
export function buildPtyEnv(o: SpawnSessionOptions, cwd: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (o.inheritEnv !== false) {
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    for (const k of TERMINAL_VARS) delete env[k];
  }
  // proc's check, so a PTY session refuses the same environments a pipe session does.
  if (o.env !== undefined) overlayEnv(env, o.env);
  env.TERM = o.term ?? o.env?.TERM ?? 'xterm-256color';
  if (o.env?.PWD === undefined) env.PWD = cwd;
  return env;
}

function executable(path: string): 'ok' | 'missing' | 'denied' {
  try {
    const st = statSync(path);
    if (!st.isFile()) return 'denied';
    accessSync(path, constants.X_OK);
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'denied';
  }
}

/** The program's path: `argv[0]` itself when it holds a `/`, else looked up on the child's PATH. */
export function resolveProgram(
  argv: readonly string[],
  cwd: string,
  env: Record<string, string>,
): string {
  const o = { argv, cwd } as SpawnSessionOptions;
  const name = argv[0]!;
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(cwd, name);
    const state = executable(path);
    if (state === 'ok') return path;
    if (state === 'missing')
      throw fail(o, 'ERR_SLUICE_SPAWN_NOT_FOUND', `command not found: ${name}`, 'ENOENT');
    throw fail(o, 'ERR_SLUICE_SPAWN_PERMISSION', `permission denied: ${name}`, 'EACCES');
  }
  let denied = false;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const path = join(dir === '' ? cwd : resolve(cwd, dir), name);
    const state = executable(path);
    if (state === 'ok') return path;
    if (state === 'denied') denied = true;
  }
  if (denied) throw fail(o, 'ERR_SLUICE_SPAWN_PERMISSION', `permission denied: ${name}`, 'EACCES');
  throw fail(o, 'ERR_SLUICE_SPAWN_NOT_FOUND', `command not found: ${name}`, 'ENOENT');
}

/** Checks rows/cols: integers in 1..65535. */
export function checkSize(rows: unknown, cols: unknown): PtySize {
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      throw new InvalidOptionError(name, `must be an integer in 1..65535, got ${String(v)}`);
    }
  }
  return { rows: rows as number, cols: cols as number };
}

/**
 * The code for a failed PTY fork: out of fds or processes (EMFILE, ENFILE, EAGAIN, ENOMEM) is
 * worth a retry; anything else not.
 */
export function resourceCode(e: unknown): 'ERR_SLUICE_SPAWN_RESOURCES' | 'ERR_SLUICE_SPAWN_FAILED' {
  const text = `${(e as NodeJS.ErrnoException)?.code ?? ''} ${String(e)}`;
  return /\b(EMFILE|ENFILE|EAGAIN|ENOMEM)\b|Too many open files|Resource temporarily unavailable/.test(
    text,
  )
    ? 'ERR_SLUICE_SPAWN_RESOURCES'
    : 'ERR_SLUICE_SPAWN_FAILED';
}
