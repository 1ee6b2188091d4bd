/**
 * `PtySession`: a child on a pseudo-terminal made by node-pty's native fork. One merged output
 * stream (`stdout`), input through `writeStdin`, `resize`.
 *
 * What it fixes of node-pty's wrapper (see `pty-native.ts`):
 * - The exit is reported only after the last output was read: when the child is reaped, what is
 *   still in the terminal's buffer is read synchronously, to EOF/EIO or until the buffer is
 *   empty (a read flushes the kernel's pending tty work first), before the exit is recorded.
 * - The master fd is close-on-exec (no later child inherits it) and is closed right after that
 *   drain, which hangs the terminal up: processes the child left on it get SIGHUP, as when a
 *   terminal window closes.
 * - Signals go to every process group of the child's session, not to one pid.
 * Input is written with non-blocking `writeSync` on this thread (retried with a backoff while
 * the terminal's input buffer is full), so no write can land on a closed, reused fd.
 */
import { closeSync, readSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { ReadStream } from 'node:tty';
import {
  dupFd,
  ExitWaiters,
  killOnExit,
  SpawnError,
  setCloseOnExec,
  signalSession,
  waitSessionGone,
} from '../../proc/index.js';
import { ScreenModel } from '../screen/screen-model.js';
import { SessionExitedError } from './errors.js';
import { ptyNative } from './pty-native.js';
import {
  buildPtyEnv,
  checkArgvAndCwd,
  checkSize,
  resolveProgram,
  resourceCode,
} from './pty-spawn.js';
import { Session, type SessionInit } from './session.js';
import type { PtySize, SessionKind, StreamName } from './types.js';

const DRAIN_CHUNK = 64 * 1024;
/** After SIGKILL a session's processes end in microseconds; past this we stop waiting. */
const AFTER_KILL_MS = 5000;
const EOF_CHAR = Buffer.from([4]);

function signalName(n: number): NodeJS.Signals | null {
  if (!n) return null;
  for (const [name, value] of Object.entries(osConstants.signals)) {
    if (value === n) return name as NodeJS.Signals;
  }
  return null;
}

/**
 * A session on a PTY (see the module comment). Made by `SessionRegistry.spawn` with `pty`; its
 * master fd is closed right after the exit is recorded, its processes swept on release.
 */
export class PtySession extends Session {
  readonly kind: SessionKind = 'pty';
  #pid = 0;
  #untrack: () => void = () => {};
  #options: SessionInit['options'];
  #fd = -1;
  /** The reader's own fd: a duplicate of #fd, or #fd itself where no dup could be made. */
  #readerFd = -1;
  #reader!: ReadStream;
  /** The screen model asked to stop reading until its 'drain'. */
  #screenFull = false;
  #size: PtySize;
  /** The screen model fed with every output byte (see docs/screens.md); absent when disabled. */
  readonly #screen: ScreenModel | undefined;
  #reaped = false;
  #stopBegan = false;
  #killSent = false;
  #stopping: Promise<void> | undefined;
  readonly #exitWaiters = new ExitWaiters();
  #writeQueue: { data: Buffer; close: boolean; done: (e?: Error) => void; written: number }[] = [];
  #writeTimer: NodeJS.Timeout | undefined;
  #writeDelay = 1;

  /** Spawns the child; throws `SpawnError` (nothing left behind) when it cannot start. */
  constructor(init: SessionInit) {
    super(init, ['stdout']);
    const o = init.options;
    checkArgvAndCwd(o, this.cwd);
    const size = checkSize(o.pty?.rows, o.pty?.cols);
    this.#options = o;
    this.#size = size;
    this.#fork();
    this.#screen = init.screen === false ? undefined : new ScreenModel(size);
    // The emulator parses slower than a flood arrives: stop reading the terminal while it
    // catches up (the program then blocks on its terminal, as under tmux), so memory stays bounded.
    this.#screen?.on('drain', () => {
      this.#screenFull = false;
      if (!this.#reader.destroyed && !this.readingHeld('stdout')) this.#reader.resume();
    });
  }

  /** Forks the program on a new PTY of the current size and starts reading it. */
  #fork(): void {
    const o = this.#options;
    const size = this.#size;
    const { native, helperPath } = (() => {
      try {
        return ptyNative();
      } catch (e) {
        throw new SpawnError('ERR_SLUICE_SPAWN_FAILED', `node-pty cannot load: ${String(e)}`, {
          argv: [...o.argv],
          cause: e,
        });
      }
    })();
    const env = buildPtyEnv(o, this.cwd);
    const file = resolveProgram(o.argv, this.cwd, env);
    const envList = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    let term: { fd: number; pid: number };
    try {
      term = native.fork(
        file,
        o.argv.slice(1),
        envList,
        this.cwd,
        size.cols,
        size.rows,
        -1,
        -1,
        true,
        helperPath,
        (code, signal) => this.#onReaped(code, signal),
      );
    } catch (e) {
      throw new SpawnError(resourceCode(e), `cannot start a PTY: ${String(e)}`, {
        argv: [...o.argv],
        cwd: this.cwd,
        cause: e,
      });
    }
    this.#pid = term.pid;
    this.#fd = term.fd;
    this.#untrack = killOnExit(this.#pid, 'session');
    // Before anything else can spawn: no later child may inherit the master.
    setCloseOnExec(term.fd);
    // The reader gets its own duplicate of the master: when the child closes its terminal fds
    // just before exiting (cat's atexit does), the master reads EIO and the stream destroys
    // itself, closing its fd. Were that the only master fd, the terminal would hang up and the
    // still-running child die of SIGHUP instead of exiting 0. The original stays open until the
    // child is reaped and drained (#closeMaster). Without koffi there is no dup: share the fd.
    this.#readerFd = dupFd(term.fd) ?? term.fd;
    // allowHalfOpen: a read of 0 bytes must not close the fd. While the session leader exits,
    // Linux can return 0 from the master (the terminal is being hung up) with output still
    // buffered; the drain at reaping time reads it. Closing there is what loses the last output.
    const reader = new ReadStream(this.#readerFd, { allowHalfOpen: true });
    this.#reader = reader;
    reader.on('data', (chunk: Buffer) => this.#output(chunk));
    if (this.#screenFull || this.readingHeld('stdout')) reader.pause();
    // EIO is how a master reads "every slave fd closed, everything read"; the stream destroys
    // itself (closing its fd) and the exit is still awaited from the reaper.
    reader.on('error', () => {});
    reader.on('close', () => {
      if (this.#reader !== reader) return; // a run before a restart
      if (this.#readerFd !== this.#fd) return; // the original master is still ours
      this.#fd = -1;
      this.endStream('stdout');
    });
  }

  /** The restart policy's next run: a new PTY of the current size; the screen carries on. */
  protected respawn(): Promise<void> {
    this.#reaped = false;
    this.#stopBegan = false;
    this.#killSent = false;
    this.#stopping = undefined;
    this.#writeDelay = 1;
    this.#fork();
    return Promise.resolve();
  }

  protected override get markerNewline(): string {
    return '\r\n';
  }

  protected override markerOutput(bytes: Buffer): void {
    this.#output(bytes);
  }

  get pid(): number {
    return this.#pid;
  }

  override get size(): PtySize {
    return { ...this.#size };
  }

  /** The session's screen (a headless terminal fed with its output), unless disabled. */
  override get screen(): ScreenModel | undefined {
    return this.#screen;
  }

  resize(rows: number, cols: number): void {
    const size = checkSize(rows, cols);
    if (this.hasExited || !this.#fdUsable()) throw new SessionExitedError(this.id, 'resize');
    ptyNative().native.resize(this.#fd, size.cols, size.rows);
    this.#size = size;
    this.#screen?.resize(size.rows, size.cols);
  }

  /** One chunk read from the terminal: to the ring and attachments, then to the screen. */
  #output(chunk: Buffer): void {
    this.pushOutput('stdout', chunk);
    if (this.#screen && !this.#screen.write(chunk)) {
      this.#screenFull = true;
      this.#reader.pause();
    }
  }

  /** A lossless attachment's hold: the screen's own pause outlasts its release. */
  protected holdReading(_stream: StreamName, held: boolean): void {
    if (this.#reader.destroyed) return;
    if (held) this.#reader.pause();
    else if (!this.#screenFull) this.#reader.resume();
  }

  protected writeInput(data: Buffer, close: boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      // In canonical mode Ctrl-D ends input only on an empty line; after a partial line it
      // just hands that line over, so a second one is needed.
      const last = data.at(-1);
      const partial = data.length > 0 && last !== 0x0a && last !== 0x0d;
      const payload = close
        ? Buffer.concat(partial ? [data, EOF_CHAR, EOF_CHAR] : [data, EOF_CHAR])
        : data;
      this.#writeQueue.push({
        data: payload,
        close,
        written: 0,
        done: (e) => (e ? reject(e) : resolve(data.length)),
      });
      if (this.#writeQueue.length === 1) this.#pumpWrites();
    });
  }

  protected stop(graceMs: number, softSignal: NodeJS.Signals = 'SIGHUP'): Promise<void> {
    this.#stopping ??= this.#runStop(graceMs, softSignal);
    return this.#stopping;
  }

  protected async release(): Promise<void> {
    if (!this.#reaped) {
      this.#stopBegan = true;
      this.#killSent = true;
      this.#signal('SIGKILL');
      await this.exited;
    }
    this.#signal('SIGKILL');
    await waitSessionGone(this.#pid, AFTER_KILL_MS);
    this.#closeMaster();
    this.#screen?.dispose();
  }

  async #runStop(graceMs: number, soft: NodeJS.Signals): Promise<void> {
    const started = performance.now();
    if (!this.#reaped) {
      this.#stopBegan = true;
      if (graceMs > 0) {
        this.#signal(soft);
        await this.#waitReaped(graceMs);
      }
      if (!this.#reaped) {
        this.#killSent = true;
        this.#signal('SIGKILL');
        await this.exited;
      }
    } else if (graceMs > 0) {
      this.#signal(soft);
    }
    // The leader is gone; end what it left in its session within what is left of the grace.
    const left = Math.max(0, started + graceMs - performance.now());
    if (!(await waitSessionGone(this.#pid, this.#killSent ? 0 : left))) {
      this.#signal('SIGKILL');
      await waitSessionGone(this.#pid, AFTER_KILL_MS);
    }
  }

  /**
   * Signals the child itself (it is ours until reaped, so its pid cannot have been reused) and
   * every process group of its session. Both: right after the fork the child has not yet called
   * setsid, so its session has no member and only the pid reaches it.
   */
  #signal(sig: NodeJS.Signals): void {
    if (!this.#reaped) {
      try {
        process.kill(this.#pid, sig);
      } catch {
        // already exited, not yet reaped
      }
    }
    signalSession(this.#pid, sig);
  }

  #waitReaped(ms: number): Promise<void> {
    if (this.#reaped) return Promise.resolve();
    return this.#exitWaiters.wait(ms);
  }

  /** From node-pty's reaper thread, on this thread: drain, record, close. */
  #onReaped(code: number, signal: number): void {
    this.#reaped = true;
    this.#untrack();
    this.#drain();
    const sig = signalName(signal);
    const outcome = !this.#stopBegan
      ? 'natural'
      : this.#killSent && sig === 'SIGKILL'
        ? 'hard'
        : 'soft';
    // Pending input can never be read now.
    this.#failWrites(new SessionExitedError(this.id, 'write to stdin'));
    this.#closeMaster();
    this.childExited({ exitCode: sig ? null : code, signal: sig, outcome });
    this.#exitWaiters.wakeAll();
  }

  /** Reads, synchronously, whatever the terminal still holds. */
  #drain(): void {
    if (!this.#fdUsable()) return;
    // Anything the stream already read but not yet emitted goes first (read() emits it).
    while (this.#reader.readableLength > 0 && this.#reader.read() !== null) {}
    const buf = Buffer.allocUnsafe(DRAIN_CHUNK);
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: empty; EIO: every slave closed and everything read
      }
      if (n <= 0) break;
      this.#output(Buffer.from(buf.subarray(0, n)));
    }
  }

  /** The master fd is open and ours (a destroyed reader has closed it, maybe before 'close'). */
  #fdUsable(): boolean {
    return this.#fd >= 0 && (this.#readerFd !== this.#fd || !this.#reader.destroyed);
  }

  #closeMaster(): void {
    if (this.#writeTimer) clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
    if (!this.#reader.destroyed) this.#reader.destroy();
    // The reader closes its own fd; the original master, when separate, is closed here.
    if (this.#fd >= 0 && this.#fd !== this.#readerFd) closeSync(this.#fd);
    this.#fd = -1;
    this.endStream('stdout');
  }

  #pumpWrites(): void {
    this.#writeTimer = undefined;
    while (this.#writeQueue.length > 0) {
      const job = this.#writeQueue[0]!;
      if (!this.#fdUsable()) {
        this.#failWrites(new SessionExitedError(this.id, 'write to stdin'));
        return;
      }
      try {
        while (job.written < job.data.length) {
          job.written += writeSync(this.#fd, job.data, job.written);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.#writeTimer = setTimeout(() => this.#pumpWrites(), this.#writeDelay);
          this.#writeDelay = Math.min(this.#writeDelay * 2, 50);
          return;
        }
        this.#failWrites(new SessionExitedError(this.id, 'write to stdin'));
        return;
      }
      this.#writeDelay = 1;
      this.#writeQueue.shift();
      job.done();
    }
  }

  #failWrites(error: Error): void {
    const jobs = this.#writeQueue;
    this.#writeQueue = [];
    for (const j of jobs) j.done(error);
  }
}
