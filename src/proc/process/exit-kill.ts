/**
 * Processes that must not outlive this one. Node runs 'exit' listeners for a normal exit and for
 * `process.exit()`, not for SIGKILL: a SIGKILLed parent needs another tie (a pipe whose EOF the
 * child watches, as `sluice daemon --until-stdin-closes` does).
 */
import { signalSession } from './terminal-session.js';

/** What to SIGKILL at exit: one process group, or every group of a terminal session. */
export type ExitKillScope = 'group' | 'session';

const live = new Map<number, ExitKillScope>();
let hooked = false;

function killAll(): void {
  for (const [id, scope] of live) {
    try {
      if (scope === 'group') process.kill(-id, 'SIGKILL');
      else {
        process.kill(id, 'SIGKILL');
        signalSession(id, 'SIGKILL');
      }
    } catch {
      // already gone
    }
  }
}

/**
 * SIGKILLs group (or terminal session) `id` if this process exits while it is still tracked.
 * Returns the function that stops tracking it (call it once the group has ended).
 */
export function killOnExit(id: number, scope: ExitKillScope): () => void {
  live.set(id, scope);
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
  }
  return () => {
    if (live.get(id) === scope) live.delete(id);
  };
}
