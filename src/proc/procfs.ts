/**
 * Reading the process table from /proc (Linux). Every reader tolerates a process vanishing
 * between listing and reading: it is simply left out.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One line of /proc/PID/stat, the fields sluice uses. */
export interface ProcStat {
  pid: number;
  /** The command name the kernel keeps (at most 15 bytes). */
  comm: string;
  /** R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  /** Process-group id. */
  pgrp: number;
  /** Session id. */
  session: number;
}

/** Whether /proc can be read here. */
export const hasProcfs: boolean = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** Parses /proc/PID/stat; undefined when the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
  };
}

/** Every process visible in /proc. Empty where there is no /proc. */
export function listProcesses(): ProcStat[] {
  if (!hasProcfs) return [];
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const stat = readStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/**
 * The descendants of `pid` (children, their children, …), in breadth-first order, not including
 * `pid` itself. A grandchild whose parent already exited has been re-parented and is no longer a
 * descendant: use the process group (`groupMembers`) to find those.
 */
export function descendants(pid: number, table: ProcStat[] = listProcesses()): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of table) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const out: ProcStat[] = [];
  const queue = [pid];
  const seen = new Set<number>([pid]);
  for (let i = 0; i < queue.length; i++) {
    for (const child of byParent.get(queue[i]!) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** The members of process group `pgid`; with `includeZombies: false`, the ones still running. */
export function groupMembers(pgid: number, options: { includeZombies?: boolean } = {}): ProcStat[] {
  const includeZombies = options.includeZombies ?? true;
  return listProcesses().filter((p) => p.pgrp === pgid && (includeZombies || p.state !== 'Z'));
}

/** The children of this process, zombies included (state `Z`). */
export function childProcesses(): ProcStat[] {
  return listProcesses().filter((p) => p.ppid === process.pid);
}

/** The children of this process that have exited but not been reaped. */
export function zombieChildren(): ProcStat[] {
  return childProcesses().filter((p) => p.state === 'Z');
}
