/**
 * The builtins: commands that must run inside the interpreter because they read or change its
 * state (`cd`, `pwd`, `export`, `unset`, `set`, `exit`, `source`/`.`, `command -v`), plus `true`,
 * `false` and `:` (no process needed). Everything else runs as a program from PATH.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { findProgram } from './command-stage.js';
import type { ShellState } from './state.js';

/** Thrown by `exit`; caught by the script (or subshell) it ends. */
export class ExitRequest {
  readonly status: number;
  constructor(status: number) {
    this.status = status;
  }
}

/** Where a builtin writes. */
export interface BuiltinIO {
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
}

/** Runs a script file in the current state (`source`). Provided by the interpreter. */
export type SourceRunner = (text: string, file: string, args: string[]) => Promise<number>;

/** The names handled here. */
export const BUILTINS = new Set([
  'cd',
  'pwd',
  'export',
  'unset',
  'set',
  'exit',
  'true',
  'false',
  ':',
  'source',
  '.',
  'command',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Runs builtin `argv[0]` on `state`; resolves with its status. `exit` throws `ExitRequest`.
 * Arguments of `export` arrive already split into `NAME=value` words by the interpreter.
 */
export async function runBuiltin(
  argv: readonly string[],
  state: ShellState,
  io: BuiltinIO,
  source: SourceRunner,
): Promise<number> {
  const [name, ...args] = argv as [string, ...string[]];
  const fail = async (msg: string, status = 1) => {
    await io.err(`sluice: ${name}: ${msg}\n`);
    return status;
  };
  switch (name) {
    case 'true':
    case ':':
      return 0;
    case 'false':
      return 1;
    case 'pwd':
      await io.out(`${state.cwd}\n`);
      return 0;
    case 'cd':
      return changeDirectory(args, state, io, fail);
    case 'export':
    case 'unset':
      return exportOrUnset(name, args, state, fail);
    case 'set':
      return setFlags(args, state, fail);
    case 'exit': {
      if (args.length > 1) return fail('too many arguments');
      const n = args[0] === undefined ? state.status : Number(args[0]);
      if (!Number.isInteger(n)) {
        await io.err(`sluice: exit: ${args[0]}: numeric argument required\n`);
        throw new ExitRequest(2);
      }
      throw new ExitRequest(((n % 256) + 256) % 256);
    }
    case 'source':
    case '.': {
      const file = args[0];
      if (file === undefined) return fail('filename argument required', 2);
      const path = file.includes('/') ? resolve(state.cwd, file) : findSourced(file, state);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return fail(`${file}: No such file or directory`);
      }
      return source(text, path, args.slice(1));
    }
    case 'command':
      return commandV(args, state, io, fail);
  }
  return fail('not a builtin', 127);
}

/** `cd [DIR|-]`: changes `state.cwd`, `PWD` and `OLDPWD`; `cd -` prints the new directory. */
async function changeDirectory(
  args: string[],
  state: ShellState,
  io: BuiltinIO,
  fail: (msg: string, status?: number) => Promise<number>,
): Promise<number> {
  let target = args.filter((a) => a !== '--')[0];
  if (args.length > 1 && args.filter((a) => a !== '--').length > 1)
    return fail('too many arguments');
  if (target === undefined) {
    target = state.vars.get('HOME');
    if (!target) return fail('HOME not set');
  }
  let print = false;
  if (target === '-') {
    target = state.vars.get('OLDPWD');
    if (!target) return fail('OLDPWD not set');
    print = true;
  }
  const dir = resolve(state.cwd, target);
  try {
    if (!statSync(dir).isDirectory()) return fail(`${target}: Not a directory`);
  } catch {
    return fail(`${target}: No such file or directory`);
  }
  state.vars.set('OLDPWD', state.cwd);
  state.cwd = dir;
  state.vars.set('PWD', dir);
  if (print) await io.out(`${dir}\n`);
  return 0;
}

/** `export NAME[=value]…` and `unset [-v] NAME…`; a bad name fails that one name only. */
async function exportOrUnset(
  name: 'export' | 'unset',
  args: string[],
  state: ShellState,
  fail: (msg: string, status?: number) => Promise<number>,
): Promise<number> {
  let status = 0;
  for (const a of args) {
    if (a === '-v' && name === 'unset') continue;
    if (a.startsWith('-')) return fail(`${a}: option not supported`, 2);
    const eq = a.indexOf('=');
    const key = name === 'export' && eq >= 0 ? a.slice(0, eq) : a;
    if (!NAME.test(key)) {
      status = await fail(`\`${a}': not a valid identifier`);
      continue;
    }
    if (name === 'unset') {
      state.vars.delete(key);
      state.exported.delete(key);
    } else {
      if (eq >= 0) state.vars.set(key, a.slice(eq + 1));
      state.exported.add(key);
    }
  }
  return status;
}

/** `command -v NAME…`: prints where each name is found; 1 when one is not. */
async function commandV(
  args: string[],
  state: ShellState,
  io: BuiltinIO,
  fail: (msg: string, status?: number) => Promise<number>,
): Promise<number> {
  if (args[0] !== '-v') return fail('only command -v NAME is supported here', 2);
  let status = 0;
  for (const n of args.slice(1)) {
    if (BUILTINS.has(n)) await io.out(`${n}\n`);
    else {
      const p = findProgram(n, state.vars.get('PATH'), state.cwd);
      if (p) await io.out(`${n.includes('/') ? n : p}\n`);
      else status = 1;
    }
  }
  return args.length > 1 ? status : 1;
}

function findSourced(file: string, state: ShellState): string {
  for (const dir of (state.vars.get('PATH') ?? '').split(':')) {
    const p = resolve(state.cwd, dir || '.', file);
    try {
      if (statSync(p).isFile()) return p;
    } catch {}
  }
  return resolve(state.cwd, file);
}

async function setFlags(
  args: string[],
  state: ShellState,
  fail: (msg: string, status?: number) => Promise<number>,
): Promise<number> {
  const named: Record<string, 'errexit' | 'nounset' | 'pipefail'> = {
    errexit: 'errexit',
    nounset: 'nounset',
    pipefail: 'pipefail',
  };
  const letters: Record<string, 'errexit' | 'nounset'> = { e: 'errexit', u: 'nounset' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      state.positional = [state.positional[0]!, ...args.slice(i + 1)];
      return 0;
    }
    if (!/^[-+][a-z]+$/.test(a))
      return fail(`${a}: only set -e, -u, -o errexit|nounset|pipefail and set -- are supported`, 2);
    const on = a[0] === '-';
    for (const ch of a.slice(1)) {
      if (ch === 'o') {
        const opt = args[++i];
        const flag = opt === undefined ? undefined : named[opt];
        if (!flag)
          return fail(`-o ${opt ?? ''}: only errexit, nounset and pipefail are supported`, 2);
        // pipefail (with SIGPIPE forgiven downstream of successes) is always on.
        if (flag === 'pipefail' && !on)
          return fail('+o pipefail: the status rule is always pipefail', 2);
        if (flag !== 'pipefail') state.flags[flag] = on;
        continue;
      }
      const flag = letters[ch];
      if (!flag)
        return fail(`-${ch}: only set -e, -u, -o errexit|nounset|pipefail are supported`, 2);
      state.flags[flag] = on;
    }
  }
  return 0;
}
