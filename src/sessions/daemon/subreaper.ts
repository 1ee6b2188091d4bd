/**
 * The two libc calls that make the daemon a child subreaper (Linux): `prctl(PR_SET_CHILD_SUBREAPER)`
 * so that a session's descendant whose parent exits (a double fork, a `setsid` daemon) is
 * re-parented to the daemon instead of to init, and `waitpid(pid, WNOHANG)` to reap such an
 * adopted process once it exits. Node reaps only the children it spawned itself, so these calls
 * are made only for pids Node does not know (see adopted.ts). Through koffi, as the OS layer's
 * other calls; where it cannot load, or off Linux, both are no-ops that say so.
 */
import { createRequire } from 'node:module';

interface Calls {
  prctl(option: number, arg2: number, arg3: number, arg4: number, arg5: number): number;
  waitpid(pid: number, status: number[], options: number): number;
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

let calls: Calls | null | undefined;

function load(): Calls | null {
  if (calls !== undefined) return calls;
  calls = null;
  if (process.platform !== 'linux') return calls;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(path: string): { func(signature: string): (...args: unknown[]) => number };
    };
    const libc = koffi.load('libc.so.6');
    const prctl = libc.func(
      'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
    );
    const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
    calls = {
      prctl: (o, a, b, c, d) => prctl(o, a, b, c, d),
      waitpid: (pid, status, options) => waitpid(pid, status, options),
    };
  } catch {
    // No koffi here (or no fd free to load it): try again next time.
    calls = undefined;
    return null;
  }
  return calls;
}

/**
 * Makes this process a child subreaper. Returns whether it is one now (false off Linux or where
 * the call is unavailable).
 */
export function becomeSubreaper(): boolean {
  const c = load();
  if (!c) return false;
  try {
    return c.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
  } catch {
    return false;
  }
}

/**
 * Reaps `pid` if it is an exited child of this process (a zombie), without waiting. Returns
 * whether it was reaped. Never call it for a child Node spawned: Node reaps those itself.
 */
export function reapIfExited(pid: number): boolean {
  const c = load();
  if (!c) return false;
  try {
    return c.waitpid(pid, [0], WNOHANG) === pid;
  } catch {
    return false;
  }
}
