import { readFileSync } from 'node:fs';
import { InvalidPidError } from '../errors.js';

let ownGroup: number | undefined;

/**
 * This process's own process-group id, read once from /proc. `undefined` where /proc is missing
 * (macOS); callers then only get the generic checks.
 */
export function ownProcessGroup(): number | undefined {
  if (ownGroup !== undefined) return ownGroup;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ownGroup = Number(rest[2]);
  } catch {
    ownGroup = undefined;
  }
  return ownGroup;
}

/**
 * Throws `InvalidPidError` unless `pid` is a safe integer above 1. Values that the kernel reads as
 * "every process" (-1), "my group" (0) or a group (negative) are refused here, so a bug upstream
 * can never turn into a signal to the wrong processes.
 */
export function assertPid(pid: unknown): asserts pid is number {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid)) {
    throw new InvalidPidError(pid, 'not an integer');
  }
  if (pid <= 0) throw new InvalidPidError(pid, 'must be positive');
  if (pid === 1) throw new InvalidPidError(pid, 'refusing to signal init');
}

/** Like `assertPid`, and also refuses this process itself and this process's own group. */
export function assertForeignGroup(pgid: unknown): asserts pgid is number {
  assertPid(pgid);
  if (pgid === process.pid) throw new InvalidPidError(pgid, 'that is this process');
  if (pgid === ownProcessGroup()) {
    throw new InvalidPidError(pgid, "that is this process's own group");
  }
}
