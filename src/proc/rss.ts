/**
 * Resident memory of a process tree, as go-pipe's memory watcher measures it: the anonymous part
 * of the resident set (`RssAnon` in /proc/PID/status), which is what a runaway process grows and
 * what the OOM killer weighs. File-backed pages (shared libraries, page cache) are left out. The
 * peak resident set (`VmHWM`) is read from the same file, in the same read. This is the one
 * place in sluice that reads memory from /proc.
 */
import { readFileSync } from 'node:fs';
import { assertPid } from './process/validate.js';
import { descendants, type ProcStat } from './procfs.js';

/** The memory figures of one process, from one read of /proc/PID/status. */
export interface ProcessMemory {
  /** `RssAnon`: anonymous resident memory, in bytes. */
  rssAnonBytes: number;
  /** `VmHWM`: the peak resident set size so far, in bytes (0 where the kernel omits it). */
  peakRssBytes: number;
}

const RSS_ANON = /^RssAnon:\s+(\d+)\s+kB$/m;
const VM_HWM = /^VmHWM:\s+(\d+)\s+kB$/m;

/**
 * The memory of one process, or undefined when it is gone or is a zombie (a zombie's status has
 * no memory lines). Linux only: undefined where /proc is missing.
 */
export function processMemory(pid: number): ProcessMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const anon = RSS_ANON.exec(text);
  if (!anon) return undefined;
  const hwm = VM_HWM.exec(text);
  return { rssAnonBytes: Number(anon[1]) * 1024, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
}

/** RssAnon of one process in bytes; undefined when it is gone or is a zombie. */
export function rssAnonBytes(pid: number): number | undefined {
  return processMemory(pid)?.rssAnonBytes;
}

/** Peak resident set (VmHWM) of one process in bytes; undefined when it is gone or a zombie. */
export function peakRssBytes(pid: number): number | undefined {
  return processMemory(pid)?.peakRssBytes;
}

/** The summed memory of a process and its live descendants. */
export interface TreeRss {
  /** Sum of RssAnon over `pids`, in bytes. */
  bytes: number;
  /** Sum of VmHWM (each process's own peak) over `pids`, in bytes. */
  peakBytes: number;
  /** The processes that were counted, the root first. */
  pids: number[];
}

/**
 * Sums RssAnon (and VmHWM) over `pid` and every descendant, reading each status file once.
 * Throws `InvalidPidError` for a pid that cannot name a process; a pid that is gone gives
 * `{ bytes: 0, peakBytes: 0, pids: [] }`.
 */
export function treeRss(pid: number, table?: ProcStat[]): TreeRss {
  assertPid(pid);
  const root = processMemory(pid);
  if (root === undefined) return { bytes: 0, peakBytes: 0, pids: [] };
  let bytes = root.rssAnonBytes;
  let peakBytes = root.peakRssBytes;
  const pids = [pid];
  for (const d of descendants(pid, table)) {
    const m = processMemory(d.pid);
    if (m === undefined) continue;
    bytes += m.rssAnonBytes;
    peakBytes += m.peakRssBytes;
    pids.push(d.pid);
  }
  return { bytes, peakBytes, pids };
}
