/**
 * Child subreaper (Linux `prctl(PR_SET_CHILD_SUBREAPER)`): a process that owns long-lived
 * children (the sessions daemon) asks the kernel to re-parent its orphaned descendants — a
 * double-forked grandchild whose parent exited — to itself instead of to init, so it can still
 * find and end them. Those adopted orphans are then children that Node did not spawn and will not
 * reap: this module finds them, ends them and reaps them, with `waitpid(pid, WNOHANG)` on each
 * adopted pid only. It never calls `waitpid(-1)` and never waits for a pid Node spawned, whose
 * exit status Node itself must collect.
 */
import { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { loadNative } from '../fd/native.js';
import { pollUntil } from '../poll.js';
import { childProcesses, type ProcStat, readStat } from '../procfs.js';
import { DEFAULT_GRACE_MS } from './exit-info.js';

const WNOHANG = 1;

/** Pids this process started through Node (`child_process`), while they run. */
const nodeChildren = new Set<number>();
/** Children that existed when tracking began: spawned before it, so never adopted. */
const before = new Set<number>();
let tracking = false;

/**
 * Records every child Node spawns from now on (a hook on `ChildProcess.prototype.spawn`), and
 * counts the children already running as this process's own. Idempotent.
 */
function trackNodeChildren(): void {
  if (tracking) return;
  tracking = true;
  for (const c of childProcesses()) before.add(c.pid);
  const proto = ChildProcess.prototype as unknown as { spawn(...args: unknown[]): unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const result = spawn.apply(this, args);
    const pid = this.pid;
    if (pid !== undefined) {
      nodeChildren.add(pid);
      this.once('exit', () => nodeChildren.delete(pid));
    }
    return result;
  };
}

/**
 * Makes this process a child subreaper, and starts telling Node's own children apart from
 * adopted ones (call it before spawning the children whose orphans it should adopt). Returns
 * false where that is impossible (not Linux, or koffi missing); nothing is adopted then and the
 * other functions here find nothing. Idempotent.
 *
 * @example
 * ```ts
 * if (becomeChildSubreaper()) {
 *   using _reaper = reapAdoptedEvery(1000);   // no zombie piles up
 *   // … at shutdown, end the orphans of a session's group:
 *   await endAdopted((p) => p.session === sessionId, { graceMs: 2000 });
 * }
 * ```
 */
export function becomeChildSubreaper(): boolean {
  const lib = loadNative();
  if (!lib?.setChildSubreaper) return false;
  trackNodeChildren();
  return lib.setChildSubreaper(true) === 0;
}

/** Whether this process is a child subreaper now (false where that cannot be asked). */
export function isChildSubreaper(): boolean {
  return loadNative()?.getChildSubreaper?.() === 1;
}

/** Options of the adopted-children functions. */
export interface AdoptedOptions {
  /**
   * Children that are this process's own although Node did not spawn them (for example a PTY
   * child forked by node-pty, which reaps it itself). They are never signalled or reaped here.
   * @default () => false
   */
  isOwn?: (pid: number) => boolean;
}

/**
 * The children of this process that it did not spawn through Node: orphans re-parented to it as
 * a subreaper (zombies included, state `Z`). Empty until `becomeChildSubreaper()` has run.
 */
export function adoptedChildren(options: AdoptedOptions = {}): ProcStat[] {
  if (!tracking) return [];
  const isOwn = options.isOwn ?? (() => false);
  for (const pid of before) if (!readStat(pid)) before.delete(pid);
  return childProcesses().filter(
    (p) => !nodeChildren.has(p.pid) && !before.has(p.pid) && !isOwn(p.pid),
  );
}

/** An adopted child that was reaped, with how it ended. */
export interface ReapedChild {
  pid: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

function signalName(n: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === n) return name as NodeJS.Signals;
  }
  return null;
}

/**
 * Reaps every adopted child that has exited (a zombie), one `waitpid(pid, WNOHANG)` per pid, and
 * returns them with their exit status. Never touches a pid Node spawned or `isOwn` claims.
 */
export function reapAdopted(options: AdoptedOptions = {}): ReapedChild[] {
  const waitpid = loadNative()?.waitpid;
  if (!waitpid) return [];
  const out: ReapedChild[] = [];
  for (const p of adoptedChildren(options)) {
    if (p.state !== 'Z') continue;
    const status = [0];
    if (waitpid(p.pid, status, WNOHANG) !== p.pid) continue;
    const s = status[0]!;
    const termsig = s & 0x7f;
    out.push(
      termsig === 0
        ? { pid: p.pid, exitCode: (s >> 8) & 0xff, signal: null }
        : { pid: p.pid, exitCode: null, signal: signalName(termsig) },
    );
  }
  return out;
}

/** Options of `endAdopted`. */
export interface EndAdoptedOptions extends AdoptedOptions {
  /**
   * How long the adopted children may take to exit after the soft signal before SIGKILL. 0 sends
   * SIGKILL at once.
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /**
   * The soft signal.
   * @default 'SIGTERM'
   */
  softSignal?: NodeJS.Signals;
}

/**
 * Ends the adopted children `which` selects (all of them by default): the soft signal, up to
 * `graceMs` for them to exit, SIGKILL for the rest; then reaps them. Resolves with every adopted
 * child reaped (those it ended, and any other adopted zombie it found). A child that vanishes
 * meanwhile is skipped. Throws `InvalidOptionError` for a bad `graceMs`, before any signal.
 */
export async function endAdopted(
  which: (p: ProcStat) => boolean = () => true,
  options: EndAdoptedOptions = {},
): Promise<ReapedChild[]> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!(typeof graceMs === 'number' && Number.isFinite(graceMs) && graceMs >= 0)) {
    throw new InvalidOptionError('graceMs', `must be a finite number >= 0, got ${String(graceMs)}`);
  }
  const targets = new Set(
    adoptedChildren(options)
      .filter((p) => p.state !== 'Z' && which(p))
      .map((p) => p.pid),
  );
  const send = (signal: NodeJS.Signals) => {
    for (const pid of targets) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  const running = () =>
    [...targets].filter((pid) => {
      const s = readStat(pid);
      return s !== undefined && s.state !== 'Z' && s.ppid === process.pid;
    });
  if (targets.size > 0 && graceMs > 0) {
    send(options.softSignal ?? 'SIGTERM');
    await pollUntil(() => running().length === 0, graceMs);
  }
  if (running().length > 0) {
    send('SIGKILL');
    await pollUntil(() => running().length === 0, 5000);
  }
  return reapAdopted(options);
}

/**
 * Reaps adopted zombies every `intervalMs` (unref'd: it never keeps the process alive), so
 * orphans that exit on their own do not pile up as zombies. Returns a disposable; disposing it
 * (or calling `stop()`) ends the polling.
 */
export function reapAdoptedEvery(
  intervalMs = 1000,
  options: AdoptedOptions & { onReap?: (child: ReapedChild) => void } = {},
): Disposable & { stop(): void } {
  if (!(Number.isSafeInteger(intervalMs) && intervalMs > 0)) {
    throw new InvalidOptionError('intervalMs', `must be a positive integer, got ${intervalMs}`);
  }
  const timer = setInterval(() => {
    for (const r of reapAdopted(options)) options.onReap?.(r);
  }, intervalMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  return { stop, [Symbol.dispose]: stop };
}
