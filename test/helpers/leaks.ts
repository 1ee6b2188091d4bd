/**
 * The leak checker every test that starts a process wraps itself in.
 *
 * It snapshots, before and after the test: this process's open fds, its child processes (zombies
 * included), its active handles (`process.getActiveResourcesInfo()`) and the temp entries sluice
 * made (every temp file or dir sluice creates is named `sluice-*` in the OS temp dir). After the
 * test it polls, up to a deadline, until everything is back where it was — cleanup is often
 * asynchronous — and then fails naming each thing that leaked. Leaked children are SIGKILLed (with
 * their groups) so one failing test never leaves processes behind for the next.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childProcesses,
  type OpenFd,
  openFds,
  ownProcessGroup,
  type ProcStat,
} from '../../src/proc/index.js';

export interface ResourceSnapshot {
  fds: OpenFd[];
  children: ProcStat[];
  handles: Map<string, number>;
  tempEntries: string[];
}

export interface LeakCheckOptions {
  /** How long to wait for asynchronous cleanup before reporting. Default 5000 ms. */
  timeoutMs?: number;
  /** Extra fds tolerated (for tests that legitimately keep some, like a cached pipe). Default 0. */
  fdSlack?: number;
  /** Extra active handles tolerated in total. Default 0. */
  handleSlack?: number;
  /** Handle types not compared (transient fs requests are never compared). */
  ignoreHandles?: string[];
}

/** Transient request objects, not long-lived resources. */
const ALWAYS_IGNORED = new Set(['FSReqCallback', 'FSReqPromise', 'GetAddrInfoReqWrap']);

/** Where sluice makes its temp entries; tests can point SLUICE_TMPDIR elsewhere. */
export function tempRoot(): string {
  return tmpdir();
}

function countHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

function sluiceTempEntries(): string[] {
  try {
    return readdirSync(tempRoot())
      .filter((n) => n.startsWith('sluice-'))
      .map((n) => join(tempRoot(), n));
  } catch {
    return [];
  }
}

/** Takes a snapshot of everything the checker compares. */
export function snapshotResources(): ResourceSnapshot {
  return {
    fds: openFds(),
    children: childProcesses(),
    handles: countHandles(),
    tempEntries: sluiceTempEntries(),
  };
}

/** What grew between two snapshots, as human-readable lines; empty when nothing leaked. */
export function diffResources(
  before: ResourceSnapshot,
  after: ResourceSnapshot,
  options: LeakCheckOptions = {},
): string[] {
  const problems: string[] = [];
  // A set difference, not a count: an fd the runtime closed meanwhile must not hide one we leaked.
  // anon_inode fds (io_uring, eventfd, epoll) are the runtime's own, opened lazily on first use.
  const old = new Set(before.fds.map((f) => `${f.fd} ${f.target}`));
  const fresh = after.fds.filter(
    (f) => !old.has(`${f.fd} ${f.target}`) && !f.target.startsWith('anon_inode:'),
  );
  if (fresh.length > (options.fdSlack ?? 0)) {
    problems.push(
      `fds: ${before.fds.length} before, ${after.fds.length} after; new: ${fresh
        .map((f) => `${f.fd} -> ${f.target}`)
        .join(', ')}`,
    );
  }
  const oldChildren = new Set(before.children.map((c) => c.pid));
  for (const c of after.children) {
    if (oldChildren.has(c.pid)) continue;
    problems.push(
      c.state === 'Z'
        ? `zombie child ${c.pid} (${c.comm}) not reaped`
        : `child ${c.pid} (${c.comm}, state ${c.state}) still running`,
    );
  }
  const ignored = new Set([...ALWAYS_IGNORED, ...(options.ignoreHandles ?? [])]);
  let extraHandles = 0;
  const handleLines: string[] = [];
  for (const [name, n] of after.handles) {
    if (ignored.has(name)) continue;
    const grew = n - (before.handles.get(name) ?? 0);
    if (grew > 0) {
      extraHandles += grew;
      handleLines.push(`${name} +${grew}`);
    }
  }
  if (extraHandles > (options.handleSlack ?? 0)) {
    problems.push(`active handles: ${handleLines.join(', ')}`);
  }
  const oldTemp = new Set(before.tempEntries);
  for (const t of after.tempEntries) {
    if (!oldTemp.has(t)) problems.push(`temp entry left: ${t}`);
  }
  return problems;
}

/** Thrown when resources leaked; `leaks` lists them. */
export class LeakError extends Error {
  readonly leaks: string[];
  constructor(leaks: string[]) {
    super(`resources leaked:\n  - ${leaks.join('\n  - ')}`);
    this.name = 'LeakError';
    this.leaks = leaks;
  }
}

function killLeakedChildren(before: ResourceSnapshot): void {
  const old = new Set(before.children.map((c) => c.pid));
  const ownGroup = ownProcessGroup();
  for (const c of childProcesses()) {
    if (old.has(c.pid) || c.state === 'Z') continue;
    // A child that leads its own group takes its grandchildren with it; one that shares our group
    // is killed alone: signalling our own group would kill this test run and whoever started it.
    const targets = c.pgrp === c.pid && c.pgrp !== ownGroup ? [-c.pgrp, c.pid] : [c.pid];
    for (const target of targets) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Waits (polling with backoff, never a bare sleep) until nothing has grown since `before`, or
 * throws `LeakError` naming what leaked once `timeoutMs` passes. On a leak, leftover children are
 * killed before throwing.
 */
export async function assertNoLeaks(
  before: ResourceSnapshot,
  options: LeakCheckOptions = {},
): Promise<void> {
  const deadline = performance.now() + (options.timeoutMs ?? 5000);
  let delay = 1;
  for (;;) {
    // Measured inside a timer callback, when our own timer is no longer active.
    const problems = diffResources(before, snapshotResources(), options);
    if (problems.length === 0) return;
    if (performance.now() >= deadline) {
      killLeakedChildren(before);
      throw new LeakError(problems);
    }
    await new Promise<void>((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * Wraps a test body: snapshot, run, then `assertNoLeaks`. When the body throws, leftovers are
 * still cleaned up (leaked children killed) and the body's error is the one the test fails with;
 * the leaks found on that path are printed to stderr beside it.
 */
export function withLeakCheck<A extends unknown[]>(
  body: (...args: A) => Promise<void> | void,
  options: LeakCheckOptions = {},
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const before = snapshotResources();
    try {
      await body(...args);
    } catch (error) {
      try {
        await assertNoLeaks(before, {
          ...options,
          timeoutMs: Math.min(options.timeoutMs ?? 5000, 2000),
        });
      } catch (leak) {
        process.stderr.write(`${(leak as Error).message}\n`);
      }
      throw error;
    }
    await assertNoLeaks(before, options);
  };
}
