/**
 * Signalling processes and whole process groups, and the SIGTERM → grace → SIGKILL escalation
 * every part of sluice uses to stop children. Every pid is validated first (see `assertPid`), so
 * no bug can turn into `kill(0)` or `kill(-1)`.
 */
import { InvalidPidError, NoSuchProcessError } from '../errors.js';
import { pollUntil } from '../poll.js';
import { groupMembers, hasProcfs } from '../procfs.js';
import { DEFAULT_GRACE_MS } from './exit-info.js';
import { assertForeignGroup, assertPid } from './validate.js';

/** A signal by name or number. */
export type SignalName = NodeJS.Signals | number;

function send(target: number, signal: SignalName, what: string, id: number): void {
  try {
    process.kill(target, signal);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new NoSuchProcessError(id, what);
    throw e;
  }
}

/**
 * Sends `signal` to one process. Throws `InvalidPidError` for a pid that cannot name a single
 * other process and `NoSuchProcessError` when it is gone.
 */
export function signalProcess(pid: number, signal: SignalName = 'SIGTERM'): void {
  assertPid(pid);
  if (pid === process.pid) throw new InvalidPidError(pid, 'that is this process');
  send(pid, signal, 'process', pid);
}

/**
 * Sends `signal` to every process in group `pgid` (`kill(-pgid, signal)`). Throws
 * `InvalidPidError` for an id that is not a positive integer above 1 or is this process's own
 * group, and `NoSuchProcessError` when the group has no member left.
 */
export function signalGroup(pgid: number, signal: SignalName = 'SIGTERM'): void {
  assertForeignGroup(pgid);
  send(-pgid, signal, 'process group', pgid);
}

/** Like `signalGroup`, but a vanished group is not an error: returns whether it was delivered. */
export function trySignalGroup(pgid: number, signal: SignalName = 'SIGTERM'): boolean {
  try {
    signalGroup(pgid, signal);
    return true;
  } catch (e) {
    if (e instanceof NoSuchProcessError) return false;
    throw e;
  }
}

/**
 * Whether group `pgid` still has a running member. Zombies do not count: they have exited and
 * only wait to be reaped by their parent (which, for re-parented grandchildren, is not us).
 */
export function groupAlive(pgid: number): boolean {
  assertForeignGroup(pgid);
  if (hasProcfs) return groupMembers(pgid, { includeZombies: false }).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** How `terminateGroup` ended the group. */
export type TerminateOutcome =
  /** No running member was left when it was called; nothing was sent. */
  | 'gone'
  /** The group ended within the grace period after the soft signal. */
  | 'soft'
  /** SIGKILL was needed. */
  | 'hard';

/** Options of `terminateGroup`. */
export interface TerminateOptions {
  /**
   * How long the group may take to end after the soft signal. 0 sends SIGKILL at once, with no
   * soft signal.
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /** The soft signal. Default SIGTERM. */
  softSignal?: SignalName;
  /** Aborting it skips what is left of the grace period and sends SIGKILL at once. */
  signal?: AbortSignal;
}

/** After SIGKILL the group normally ends in microseconds; past this we stop waiting. */
const AFTER_KILL_MS = 5000;

/**
 * Ends every process of group `pgid`: the soft signal, then SIGKILL after `graceMs` for whatever
 * still runs. Resolves once no member runs (polled with a short backoff, at most every 50 ms),
 * with how it ended. Never rejects for a group that vanishes midway; throws `InvalidPidError`
 * synchronously-in-promise for a bad id. The caller still reaps its own child (Node does that
 * when it sees the exit).
 */
export async function terminateGroup(
  pgid: number,
  options: TerminateOptions = {},
): Promise<TerminateOutcome> {
  assertForeignGroup(pgid);
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!groupAlive(pgid)) return 'gone';
  if (!options.signal?.aborted && graceMs > 0) {
    if (!trySignalGroup(pgid, options.softSignal ?? 'SIGTERM')) return 'soft';
    if (await waitGroupGone(pgid, graceMs, options.signal)) return 'soft';
  }
  trySignalGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, AFTER_KILL_MS);
  return 'hard';
}

/**
 * Resolves true once group `pgid` has no running member, false when `timeoutMs` passes or
 * `abort` fires first. Polls with a backoff from 1 ms up to 50 ms; leaves no timer behind.
 */
export function waitGroupGone(
  pgid: number,
  timeoutMs: number,
  abort?: AbortSignal,
): Promise<boolean> {
  assertForeignGroup(pgid);
  return pollUntil(() => !groupAlive(pgid), timeoutMs, abort);
}
