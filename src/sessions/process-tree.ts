/**
 * Finding and signalling what a session left running. A pipe session's child leads its own
 * process group; a PTY session's child leads its own *session* (forkpty calls setsid), and a
 * job-control shell moves each job into a group of its own inside that session. So a PTY
 * session is swept by session id: every group with a running member in it.
 */
import { hasProcfs, listProcesses, trySignalGroup } from '../proc/index.js';

/** The process groups that have a running (non-zombie) member in session `sid`. */
export function sessionGroups(sid: number): number[] {
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

/** Sends `signal` to every group of session `sid`; returns how many groups got it. */
export function signalSession(sid: number, signal: NodeJS.Signals): number {
  let n = 0;
  for (const g of sessionGroups(sid)) {
    if (g === process.pid || g <= 1) continue;
    if (trySignalGroup(g, signal)) n++;
  }
  return n;
}

/**
 * Resolves true once session `sid` has no running member, false after `timeoutMs` (polled with
 * a backoff from 1 ms to 50 ms; leaves no timer behind).
 */
export function waitSessionGone(sid: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = performance.now() + timeoutMs;
    let delay = 1;
    const poll = () => {
      if (sessionGroups(sid).length === 0) return resolve(true);
      const left = deadline - performance.now();
      if (left <= 0) return resolve(false);
      setTimeout(poll, Math.min(delay, left));
      delay = Math.min(delay * 2, 50);
    };
    poll();
  });
}
