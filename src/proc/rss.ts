/**
 * Resident memory of a process tree, as go-pipe's memory watcher measures it: the anonymous part
 * of the resident set (`RssAnon` in /proc/PID/status), which is what a runaway process grows and
 * what the OOM killer weighs. File-backed pages (shared libraries, page cache) are left out.
 */
import { readFileSync } from 'node:fs';
import { descendants, type ProcStat } from './procfs.js';
import { assertPid } from './validate.js';

/** RssAnon of one process in bytes; undefined when it is gone or is a zombie. */
export function rssAnonBytes(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^RssAnon:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** The summed RssAnon of a process and its live descendants. */
export interface TreeRss {
  /** Sum of RssAnon over `pids`, in bytes. */
  bytes: number;
  /** The processes that were counted, the root first. */
  pids: number[];
}

/**
 * Sums RssAnon over `pid` and every descendant. Throws `InvalidPidError` for a pid that cannot
 * name a process; a pid that is gone gives `{ bytes: 0, pids: [] }`.
 */
export function treeRss(pid: number, table?: ProcStat[]): TreeRss {
  assertPid(pid);
  const root = rssAnonBytes(pid);
  if (root === undefined) return { bytes: 0, pids: [] };
  let bytes = root;
  const pids = [pid];
  for (const d of descendants(pid, table)) {
    const rss = rssAnonBytes(d.pid);
    if (rss === undefined) continue;
    bytes += rss;
    pids.push(d.pid);
  }
  return { bytes, pids };
}
