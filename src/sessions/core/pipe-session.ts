/**
 * `PipeSession`: a child on kernel pipes, started by proc's `spawnGroup` (its own process
 * group, typed spawn errors, always reaped, group stop with the outcome classified). stdout and stderr are separate streams, or one (`mergeStderr`: both fds
 * on the same real pipe, interleaved in write order). Bytes are kept exactly as written.
 *
 * The exit is recorded once the child was reaped *and* its pipes reached EOF (or were cut after
 * the core's drain time because a grandchild kept them open), so the last output before the exit
 * is always in the backlog before `exit` fires.
 */
import type { Readable } from 'node:stream';
import { type GroupProcess, type PipeReadInto, spawnGroup } from '../../proc/index.js';
import { NotAPtyError, SessionExitedError, StdinClosedError } from './errors.js';
import { Session, type SessionInit } from './session.js';
import type { SessionKind, StreamName } from './types.js';

/**
 * The one buffer the reads of every pipe session nobody receives output from land in. Each read
 * is copied into the ring before the next read can start, so one buffer serves them all; 64 KiB
 * is a default pipe's whole capacity.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** After SIGKILL a group ends in microseconds; past this we stop waiting. */
const AFTER_KILL_MS = 5000;

/**
 * A session on pipes (see the module comment). Made by `SessionRegistry.spawn`; released (fds
 * closed, group swept) by the registry's `remove`, `purgeExited` or `shutdown`.
 */
export class PipeSession extends Session {
  readonly kind: SessionKind = 'pipe';
  readonly mergeStderr: boolean;
  #proc!: GroupProcess;
  /** The pipes being read now, by stream (replaced on a restart). */
  #readers = new Map<StreamName, Readable>();

  private constructor(init: SessionInit) {
    const merge = init.options.mergeStderr === true;
    super(init, merge ? ['stdout'] : ['stdout', 'stderr']);
    this.mergeStderr = merge;
  }

  /** Spawns the child; rejects with `SpawnError` (nothing left behind) when it cannot start. */
  static async start(init: SessionInit): Promise<PipeSession> {
    const session = new PipeSession(init);
    session.#options = init.options;
    await session.#spawn();
    return session;
  }

  #options!: SessionInit['options'];

  async #spawn(): Promise<void> {
    const o = this.#options;
    this.#proc = await spawnGroup({
      argv: o.argv,
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.env === undefined ? {} : { env: o.env }),
      ...(o.inheritEnv === undefined ? {} : { inheritEnv: o.inheritEnv }),
      stdio: ['pipe', 'pipe', this.mergeStderr ? 'stdout' : 'pipe'],
      // No buffer per read: into the session's own memory while someone receives the output,
      // else into one buffer shared by every pipe session (a chatty child makes no garbage).
      onRead: {
        stdout: this.#readInto('stdout'),
        ...(this.mergeStderr ? {} : { stderr: this.#readInto('stderr') }),
      },
    });
    this.#wire();
  }

  protected respawn(): Promise<void> {
    return this.#spawn();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  resize(_rows: number, _cols: number): void {
    throw new NotAPtyError(this.id);
  }

  protected writeInput(data: Buffer, close: boolean): Promise<number> {
    const stdin = this.#proc.stdin!;
    return new Promise((resolve, reject) => {
      if (stdin.destroyed || stdin.writableEnded) {
        reject(new StdinClosedError(this.id, 'the child closed its stdin'));
        return;
      }
      const done = (error?: Error | null) => {
        if (error) {
          this.stdinClosedFlag = true;
          reject(
            this.hasExited
              ? new SessionExitedError(this.id, 'write to stdin')
              : new StdinClosedError(this.id, `the child closed its stdin (${describe(error)})`),
          );
        } else resolve(data.length);
      };
      if (data.length > 0) stdin.write(data, done);
      if (close) {
        if (data.length > 0) stdin.end();
        else stdin.end(() => done());
      }
    });
  }

  protected async stop(graceMs: number, softSignal?: NodeJS.Signals): Promise<void> {
    await this.#proc.terminate({
      graceMs,
      ...(softSignal === undefined ? {} : { softSignal }),
    });
  }

  protected async release(): Promise<void> {
    await this.#proc.terminate({ graceMs: 0 });
    // Whatever still holds our pipes open is gone: close our ends.
    for (const s of [this.#proc.stdout, this.#proc.stderr]) s?.destroy();
    this.#proc.stdin?.destroy();
    await Promise.race([this.#proc.closed, delay(AFTER_KILL_MS)]);
  }

  #wire(): void {
    const p = this.#proc;
    this.#read(p.stdout, 'stdout');
    if (!this.mergeStderr) this.#read(p.stderr, 'stderr');
    p.stdin?.on('error', () => {
      this.stdinClosedFlag = true;
    });
    const streams = [p.stdout, this.mergeStderr ? null : p.stderr].filter(
      (s): s is Readable => s !== null,
    );
    Promise.all([p.exited, p.closed, ...streams.map(settled)]).then(([info]) => {
      p.stdin?.destroy();
      this.childExited(info);
    });
  }

  protected holdReading(stream: StreamName, held: boolean): void {
    const reader = this.#readers.get(stream);
    if (!reader || reader.destroyed) return;
    // A paused pipe stops being read once its small buffer fills: the child then blocks in
    // write(2), exactly as it would with a slow reader on a plain pipe.
    if (held) reader.pause();
    else reader.resume();
  }

  #readInto(name: StreamName): PipeReadInto {
    return {
      buffer: () => this.readTarget(name, READ_BUFFER),
      callback: (bytes, target) => {
        this.pushRead(name, target, bytes, READ_BUFFER);
        // A lossless attachment that filled up during this read holds the program from now on.
        return !this.readingHeld(name);
      },
    };
  }

  #read(stream: Readable | null, name: StreamName): void {
    if (!stream) return;
    this.#readers.set(name, stream);
    if (this.readingHeld(name)) stream.pause();
    stream.once('end', () => this.endStream(name));
    stream.once('close', () => this.endStream(name));
  }
}

/** Resolves once `s` has emitted its last data: 'end' or 'close'. */
function settled(s: Readable): Promise<void> {
  if (s.destroyed || s.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('end', () => resolve());
    s.once('close', () => resolve());
  });
}

function describe(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
