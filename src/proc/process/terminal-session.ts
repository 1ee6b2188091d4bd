/**
 * Signalling a whole terminal session. A PTY's child leads its own *session* (forkpty calls
 * setsid), and a job-control shell moves each job into a process group of its own inside it, so
 * stopping what a PTY started means every group of that session, not just the child's.
 */
import { pollUntil } from '../poll.js';
import { hasProcfs, listProcesses } from '../procfs.js';
import { trySignalGroup } from './signal.js';
import { assertForeignGroup } from './validate.js';

/** The process groups that have a running (non-zombie) member in session `sid`. */
export function sessionGroups(sid: number): number[] {
  assertForeignGroup(sid);
  if (!hasProcfs) {
    try {
      process.kill(-sid, 0);
      return [sid];
    } catch {
      return [];
    }
  }
  const groups = new Set<number>();
  for (const p of listProcesses()) {
    if (p.session === sid && p.state !== 'Z' && p.pgrp > 1) groups.add(p.pgrp);
  }
  return [...groups];
}

/**
 * Sends `signal` to every group of session `sid` (never this process's own group); returns how
 * many groups got it. Throws `InvalidPidError` for an id that cannot name a foreign session.
 */
export function signalSession(sid: number, signal: NodeJS.Signals): number {
  let n = 0;
  for (const g of sessionGroups(sid)) {
    try {
      assertForeignGroup(g);
    } catch {
      continue;
    }
    if (trySignalGroup(g, signal)) n++;
  }
  return n;
}

/**
 * Resolves true once session `sid` has no running member, false after `timeoutMs` (polled with a
 * backoff from 1 ms to 50 ms; leaves no timer behind).
 */
export function waitSessionGone(sid: number, timeoutMs: number): Promise<boolean> {
  assertForeignGroup(sid);
  return pollUntil(() => sessionGroups(sid).length === 0, timeoutMs);
}
