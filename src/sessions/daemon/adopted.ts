/**
 * Processes the daemon adopted as a child subreaper: descendants of sessions whose parent exited
 * (a double fork, a `setsid` daemon) and that were re-parented to the daemon. They are no longer
 * in their session's process group or process tree, so the group stop cannot reach them; this
 * keeps the promise that nothing outlives its session.
 *
 * Which processes count: a live child of the daemon that is not a session's own child (Node
 * spawned those and reaps them itself) and that carries `SLUICE_SESSION_ID` in its environment
 * (every session's child gets it; descendants inherit it). `endFor(id)` SIGKILLs the ones of
 * session `id` with everything below them; `endAll()` every one. An exited child of the daemon
 * that no session owns is reaped here (every second, and right after a kill); never one a session
 * holds or is releasing, and nothing while a spawn is under way, so a child Node spawned is never
 * reaped behind its back.
 */
import { readFileSync } from 'node:fs';
import { descendants, listProcesses, type ProcStat } from '../../proc/index.js';
import type { SessionRegistry } from '../core/registry.js';
import { becomeSubreaper, reapIfExited } from './subreaper.js';

/** How often exited adopted processes are reaped. */
const REAP_INTERVAL_MS = 1000;

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
  readonly #registry: SessionRegistry;
  readonly #log: (line: string) => void;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(registry: SessionRegistry, log: (line: string) => void) {
    this.#registry = registry;
    this.#log = log;
    this.active = becomeSubreaper();
    if (this.active) {
      this.#timer = setInterval(() => this.reap(), REAP_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** The daemon's children that are not a session's own child, with the session each is of. */
  #children(): { proc: ProcStat; sessionId: string | undefined }[] {
    if (!this.active) return [];
    return listProcesses()
      .filter((p) => p.ppid === process.pid && !this.#registry.ownsPid(p.pid))
      .map((proc) => ({
        proc,
        sessionId: proc.state === 'Z' ? undefined : sessionIdOf(proc.pid),
      }));
  }

  /** Reaps the daemon's exited children that no session owns. */
  reap(): void {
    if (this.#registry.spawning > 0) return;
    for (const { proc } of this.#children()) if (proc.state === 'Z') reapIfExited(proc.pid);
  }

  /** SIGKILLs the adopted processes of session `id`, and everything below them. */
  endFor(id: string): number {
    return this.#end((sessionId) => sessionId === id);
  }

  /** SIGKILLs every adopted process, and everything below them. */
  endAll(): number {
    return this.#end((sessionId) => sessionId !== undefined);
  }

  /** Stops reaping (the daemon is done). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #end(match: (sessionId: string | undefined) => boolean): number {
    const procs = this.#children()
      .filter((c) => c.proc.state !== 'Z' && match(c.sessionId))
      .map((c) => c.proc);
    if (procs.length === 0) return 0;
    const table = listProcesses();
    let killed = 0;
    for (const p of procs) {
      for (const q of [p, ...descendants(p.pid, table)]) {
        try {
          process.kill(q.pid, 'SIGKILL');
          killed++;
        } catch {
          // already gone
        }
      }
    }
    this.#log(`ended ${killed} process(es) that had left their session`);
    // They are our children: reap them as soon as the kernel has them as zombies.
    for (const p of procs) this.#reapSoon(p.pid);
    return killed;
  }

  #reapSoon(pid: number, tries = 100): void {
    if (reapIfExited(pid) || tries <= 0) return;
    setTimeout(() => this.#reapSoon(pid, tries - 1), 10).unref();
  }
}
