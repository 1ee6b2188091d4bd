/**
 * Processes the daemon adopted as a child subreaper (proc's `becomeChildSubreaper`): descendants
 * of sessions whose parent exited (a double fork, a `setsid` daemon) and that were re-parented to
 * the daemon. They are no longer in their session's process group or process tree, so the group
 * stop cannot reach them; this keeps the promise that nothing outlives its session.
 *
 * An adopted process belongs to the session named by `SLUICE_SESSION_ID` in its environment
 * (every session's child gets it; descendants inherit it). `endFor(id)` ends a session's adopted
 * processes, `endAll()` every one that carries the variable: the soft signal, the grace, SIGKILL,
 * then reaping, repeated while killing them re-parents their own children to the daemon. Adopted
 * processes that exit on their own are reaped every second. Sessions' own children — Node's, and
 * a PTY's forked by node-pty — are never signalled or reaped here.
 */
import { readFileSync } from 'node:fs';
import {
  adoptedChildren,
  becomeChildSubreaper,
  endAdopted,
  type ProcStat,
  reapAdoptedEvery,
} from '../../proc/index.js';
import type { SessionRegistry } from '../core/registry.js';

/** How often exited adopted processes are reaped. */
const REAP_INTERVAL_MS = 1000;
/** Rounds of ending: each may re-parent the ended processes' children to the daemon. */
const MAX_ROUNDS = 5;

/** Reads `SLUICE_SESSION_ID` from a process's environment; undefined when absent or unreadable. */
function sessionIdOf(pid: number): string | undefined {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    for (const entry of env.split('\0')) {
      if (entry.startsWith('SLUICE_SESSION_ID=')) return entry.slice('SLUICE_SESSION_ID='.length);
    }
  } catch {
    // gone, or not ours to read
  }
  return undefined;
}

/** The adopted processes of a daemon (see the module comment). */
export class AdoptedProcesses {
  /** Whether the daemon is a child subreaper (Linux, with koffi). */
  readonly active: boolean;
  readonly #isOwn: (pid: number) => boolean;
  readonly #log: (line: string) => void;
  readonly #reaper: { stop(): void } | undefined;

  constructor(registry: SessionRegistry, log: (line: string) => void) {
    this.#isOwn = (pid) => registry.ownsPid(pid);
    this.#log = log;
    this.active = becomeChildSubreaper();
    this.#reaper = this.active
      ? reapAdoptedEvery(REAP_INTERVAL_MS, { isOwn: this.#isOwn })
      : undefined;
  }

  /** Ends the adopted processes of session `id` (see the module comment). */
  endFor(id: string, graceMs: number): Promise<number> {
    return this.#end((sessionId) => sessionId === id, graceMs);
  }

  /** Ends every adopted process that belongs to a session. */
  endAll(graceMs: number): Promise<number> {
    return this.#end((sessionId) => sessionId !== undefined, graceMs);
  }

  /** Stops reaping (the daemon is done). */
  close(): void {
    this.#reaper?.stop();
  }

  async #end(match: (sessionId: string | undefined) => boolean, graceMs: number): Promise<number> {
    if (!this.active) return 0;
    const which = (p: ProcStat) => p.state !== 'Z' && match(sessionIdOf(p.pid));
    let ended = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const targets = adoptedChildren({ isOwn: this.#isOwn }).filter(which);
      if (targets.length === 0) break;
      ended += targets.length;
      // The first round is polite; what their deaths re-parent to us is killed at once.
      await endAdopted(which, { isOwn: this.#isOwn, graceMs: round === 0 ? graceMs : 0 });
    }
    if (ended > 0) this.#log(`ended ${ended} process(es) that had left their session`);
    return ended;
  }
}
