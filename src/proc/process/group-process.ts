/**
 * `Group`, the implementation of `GroupProcess` (see spawn-group.ts for its guarantees): exit
 * bookkeeping and the outcome, the stop sequence, the sweep of the process group, and closing
 * stdio pipes after the exit.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { InvalidOptionError } from '../errors.js';
import { DEFAULT_GRACE_MS, type ExitInfo, type ExitOutcome } from './exit-info.js';
import { killOnExit } from './exit-kill.js';
import { ExitWaiters } from './exit-waiters.js';
import { groupAlive, type SignalName, trySignalGroup, waitGroupGone } from './signal.js';
import type { GroupProcess, SpawnGroupOptions, TerminateProcessOptions } from './spawn-types.js';

const DEFAULT_DRAIN_MS = 100;
/** A pipe still receiving this many drain windows after the exit has a foreign writer. */
const MAX_DRAIN_WINDOWS = 20;
/** After SIGKILL a group ends in microseconds; past this a stuck member (D state) is left. */
const AFTER_KILL_MS = 5000;

const noop = () => {};
const { signals } = constants;

/** See `GroupProcess` for the guarantees. */
export class Group implements GroupProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly startedAt = Date.now();
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exited: Promise<ExitInfo>;
  readonly closed: Promise<void>;
  #drainMs: number;
  #exitInfo: ExitInfo | undefined;
  #exitedAt: number | undefined;
  #stopBegan = false;
  /** The EOF step closed stdin (an exit before any signal then reads `'eof'`). */
  #eofSent = false;
  #softSent = false;
  #killSent = false;
  #groupGone = false;
  /** A hard stop was asked for (an aborted `signal`): skip all waiting, SIGKILL. */
  #hard = false;
  /** Created only when the rare group-sweep wait needs an AbortSignal. */
  #hardController: AbortController | undefined;
  #terminating: Promise<ExitInfo> | undefined;
  #done = false;
  #unlisten: (() => void)[] = [];
  readonly #exitWaiters = new ExitWaiters();
  #resolveClosed!: () => void;

  constructor(
    child: ChildProcess,
    o: SpawnGroupOptions,
    stdin: Writable | null,
    stdout: Readable | null,
    stderr: Readable | null,
  ) {
    this.pid = child.pid!;
    this.argv = [...o.argv];
    this.#drainMs = o.drainMs ?? DEFAULT_DRAIN_MS;
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
    // A pipe error (EPIPE on stdin after the child exited, a reset on a read side) must never
    // become an uncaught 'error' event; users still see it through their own listeners.
    this.stdin?.on('error', noop);
    this.stdout?.on('error', noop);
    this.stderr?.on('error', noop);
    child.on('error', noop); // a failed kill() is reported as an 'error' event by Node
    const untrack = o.killOnParentExit !== false ? killOnExit(this.pid, 'group') : () => {};
    this.closed = new Promise((r) => {
      this.#resolveClosed = r;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        untrack();
        this.#exitedAt = Date.now();
        this.#exitInfo = { exitCode: code, signal, outcome: this.#outcome(signal) };
        // Learn now whether the group is empty: once it is, its id may be reused by an unrelated
        // group, so `kill()` must never signal it again.
        this.#groupPresent();
        // Nobody can read what is written now: release stdin's fd (as Node does for its own).
        this.stdin?.destroy();
        flushUnread(this.stdout, this.stderr);
        this.#wake();
        this.#settleStdio();
        resolve(this.#exitInfo);
      });
    });
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  get exitedAt(): number | undefined {
    return this.#exitedAt;
  }

  /** What this side had done when the child ended (see `ExitOutcome`). */
  #outcome(signal: NodeJS.Signals | null): ExitOutcome {
    if (!this.#stopBegan) return 'natural';
    if (this.#killSent && signal === 'SIGKILL') return 'hard';
    if (this.#softSent) return 'soft';
    return this.#eofSent ? 'eof' : 'soft';
  }

  get stopping(): boolean {
    return this.#stopBegan || this.#terminating !== undefined;
  }

  kill(signal: SignalName = 'SIGTERM'): boolean {
    if (this.#groupGone) return false;
    return trySignalGroup(this.pid, signal);
  }

  closeStdin(): void {
    const s = this.stdin;
    if (!s || s.destroyed) return;
    // With nothing left to flush, closing the fd at once delivers EOF now; end() would first
    // queue a shutdown for the next turn of the event loop. Written data already sits in the
    // kernel and stays readable by the child either way.
    if (s.writableLength === 0) s.destroy();
    else if (!s.writableEnded) s.end();
  }

  terminate(options: TerminateProcessOptions = {}): Promise<ExitInfo> {
    for (const key of ['eofTimeoutMs', 'eofMs', 'graceMs'] as const) {
      const v = options[key];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new InvalidOptionError(key, `must be a finite number >= 0, got ${String(v)}`);
      }
    }
    const soft = options.softSignal;
    if (
      soft !== undefined &&
      !(typeof soft === 'number' ? Number.isSafeInteger(soft) && soft > 0 : soft in signals)
    ) {
      throw new InvalidOptionError('softSignal', `is not a signal: ${String(soft)}`);
    }
    const abort = options.signal;
    if (abort) {
      if (abort.aborted) this.#escalate();
      else if (!this.#done) {
        const on = () => this.#escalate();
        abort.addEventListener('abort', on, { once: true });
        this.#unlisten.push(() => abort.removeEventListener('abort', on));
      }
    }
    this.#terminating ??= this.#run(options).finally(() => {
      this.#done = true;
      for (const f of this.#unlisten) f();
      this.#unlisten = [];
    });
    return this.#terminating;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
    await this.closed;
  }

  async #run(o: TerminateProcessOptions): Promise<ExitInfo> {
    const graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
    const soft = o.softSignal ?? 'SIGTERM';
    const eofMs = o.eofTimeoutMs ?? o.eofMs ?? 0;
    let softAt: number | undefined;
    if (!this.#exitInfo) {
      this.#stopBegan = true;
      if (eofMs > 0 && this.stdin && !this.#hard) {
        this.#eofSent = true;
        this.closeStdin();
        await this.#waitExit(eofMs);
      }
      if (!this.#exitInfo && !this.#hard && graceMs > 0) {
        softAt = performance.now();
        this.#softSent = true;
        this.kill(soft);
        await this.#waitExit(graceMs);
      }
      if (!this.#exitInfo) {
        this.#killSent = true;
        this.kill('SIGKILL');
        await this.exited;
      }
    }
    // The leader is reaped; end whatever it left running in its group.
    if (this.#groupPresent()) {
      if (!this.#hard && !this.#killSent && graceMs > 0) {
        if (softAt === undefined) {
          softAt = performance.now();
          this.kill(soft);
        }
        const left = Math.max(0, softAt + graceMs - performance.now());
        this.#hardController = new AbortController();
        await waitGroupGone(this.pid, left, this.#hardController.signal);
      }
      if (this.#groupPresent()) {
        this.kill('SIGKILL');
        await waitGroupGone(this.pid, AFTER_KILL_MS);
      }
    }
    this.#groupGone = true;
    return this.#exitInfo!;
  }

  /** Asks for a hard stop: whatever is being waited on ends now. */
  #escalate(): void {
    if (this.#hard) return;
    this.#hard = true;
    this.#hardController?.abort();
    this.#wake();
  }

  /** Ends every `#waitExit` (on exit or escalation). */
  #wake(): void {
    this.#exitWaiters.wakeAll();
  }

  /** Resolves when the child exits, `ms` pass, or a hard stop is requested. */
  #waitExit(ms: number): Promise<void> {
    if (this.#exitInfo || this.#hard) return Promise.resolve();
    return this.#exitWaiters.wait(ms);
  }

  /** Whether any member of the group still runs: `kill(-pgid, 0)` first, /proc only if needed. */
  #groupPresent(): boolean {
    if (this.#groupGone) return false;
    // The usual answer is ESRCH; its error needs no stack trace, which is most of its cost.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      process.kill(-this.pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') {
        this.#groupGone = true;
        return false;
      }
    } finally {
      Error.stackTraceLimit = limit;
    }
    // Members exist; zombies (re-parented grandchildren awaiting init) do not count.
    const alive = groupAlive(this.pid);
    if (!alive) this.#groupGone = true;
    return alive;
  }

  /**
   * After the exit: give each read pipe `drainMs` to reach EOF; destroy those still open whose
   * reader has taken everything (someone else holds the write end), keep waiting on those that
   * hold unread bytes (their data is the caller's to read).
   */
  #settleStdio(): void {
    const reads = [this.stdout, this.stderr].filter((s): s is Readable => s !== null);
    const open = () => reads.filter((s) => !finished(s));
    if (open().length === 0) {
      this.#resolveClosed();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const since = performance.now();
    const seen = new Map<Readable, number>();
    const check = (final: boolean) => {
      for (const s of open()) {
        // Unread bytes are the caller's: a stream is never cut while it holds any (cutting at
        // the high-water mark lost up to 64 KiB a slow reader had not taken yet).
        if (!final || s.readableLength > 0 || eofReceived(s) || heldInKernel(s)) continue;
        // Still receiving (a burst left in the kernel buffer): give it another window, unless
        // bytes keep coming far past the exit, which only a foreign writer can do.
        const bytes = bytesRead(s);
        const moving = bytes !== seen.get(s);
        seen.set(s, bytes);
        if (moving && performance.now() - since < this.#drainMs * MAX_DRAIN_WINDOWS) continue;
        s.destroy();
      }
      if (open().length > 0) return false;
      if (timer) clearTimeout(timer);
      for (const s of reads) s.off('close', onClose).off('end', onClose);
      this.#resolveClosed();
      return true;
    };
    const onClose = () => check(false);
    for (const s of reads) {
      s.on('close', onClose).on('end', onClose);
      seen.set(s, bytesRead(s));
    }
    // The timer fires in the timers phase, which on a busy loop comes before that iteration's
    // poll phase has read what the kernel already holds for the pipe: check in the check phase
    // (setImmediate) right after it, or a burst still in the kernel looks like no progress.
    const tick = () =>
      setImmediate(() => {
        if (!check(true)) {
          timer = setTimeout(tick, this.#drainMs);
          timer.unref();
        }
      }).unref();
    timer = setTimeout(tick, this.#drainMs);
    timer.unref();
  }
}

/**
 * After the exit, a read pipe nobody ever consumed (never flowing, no `'readable'` listener) is
 * drained and dropped, as Node does for its own child pipes: otherwise its unread bytes would
 * hold it open for good. A consumer that holds a stream back on purpose adds a `'readable'`
 * listener or pauses it.
 */
function flushUnread(...streams: (Readable | null)[]): void {
  for (const s of streams) {
    if (!s || s.destroyed || s.readableFlowing !== null || s.listenerCount('readable') > 0)
      continue;
    s.resume();
  }
}

/**
 * The read pipes of `spawnGroup`'s `onRead`: they hand each read to the caller at once and hold
 * nothing in the stream, so `readableLength` never shows unread bytes.
 */
export const readIntoStreams = new WeakSet<Readable>();

/**
 * Whether the caller paused a pipe it reads into its own buffer: its unread bytes wait in the
 * kernel and are the caller's, exactly as buffered bytes of a paused stream are.
 */
function heldInKernel(s: Readable): boolean {
  return readIntoStreams.has(s) && s.readableFlowing === false;
}

/**
 * Whether the stream has read EOF from its pipe, even if 'end' waits for the consumer to take
 * the last bytes (an async iterator may have taken the whole buffer already): nothing is left
 * to drain and no foreign writer holds the pipe, so it must not be cut. Node keeps this in its
 * readable state only.
 */
function eofReceived(s: Readable): boolean {
  return (s as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true;
}

/** Bytes a pipe has read so far (`net.Socket.bytesRead`; other streams: what they buffer). */
function bytesRead(s: Readable): number {
  const n = (s as Partial<Socket>).bytesRead;
  return typeof n === 'number' ? n : s.readableLength;
}

/** Whether a read pipe is done: destroyed, read to the end, or its EOF already received. */
function finished(s: Readable): boolean {
  if (s.destroyed || s.readableEnded) return true;
  // EOF has arrived but buffered data is still unread: the fd can be released by the stream
  // itself once read; nothing of ours keeps it open. Node exposes this only on the state object.
  const state = (s as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return state?.ended === true;
}
