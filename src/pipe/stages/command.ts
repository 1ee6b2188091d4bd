/**
 * The command stage: one child process, spawned without a shell, leading its own process group.
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  createPipes,
  DEFAULT_GRACE_MS,
  InvalidOptionError,
  type PipePair,
  readStat,
  terminateGroup,
} from '../../proc/index.js';
import { CommandError, PipeUsageError, StageStartError } from '../errors.js';
import { type Copy, type Pump, pooledCopy, pumpToFd } from '../pipeline/copy-pool.js';
import { pipeStartError, RESOURCE_ERRNOS } from '../pipeline/ends.js';
import { fdOfStream, type InputStream, type OutputStream } from '../pipeline/streams.js';
import type { ExitInfo, ProcessStage, StageContext, StagePreferences } from '../stage.js';
import { diagnoseSpawnFailure } from './diagnose.js';

/** Where a command's stderr goes. */
export type StderrOption =
  /** Read by sluice; the last `stderrTailBytes` are kept for the error message (default). */
  | 'capture'
  /** The parent's own stderr (fd 2), passed straight to the child. */
  | 'inherit'
  /** /dev/null. */
  | 'ignore'
  /** Wherever the command's stdout goes (`2>&1`). */
  | 'stdout'
  /** An fd the caller owns (not closed). */
  | number
  /** A stream: its fd is passed when it has one; otherwise stderr is copied into it (not ended). */
  | Writable
  /** A file, opened when the stage starts (`2> file`, `2>> file`). */
  | {
      /** The file's path, relative to the command's cwd. */
      file: string;
      /** Append to it (`2>>`) instead of truncating it (`2>`). @default false */
      append?: boolean;
    };

/** Options of `command`. */
export interface CommandOptions {
  /**
   * The stage's name in errors and events.
   * @default the file name
   */
  name?: string;
  /**
   * Working directory; a relative one is resolved against the pipeline's `cwd`.
   * @default the pipeline's `cwd`
   */
  cwd?: string;
  /**
   * Variables set over the pipeline's environment; `undefined` removes one.
   * @default {}
   */
  env?: Record<string, string | undefined>;
  /**
   * Where stderr goes (see `StderrOption`).
   * @default 'capture'
   */
  stderr?: StderrOption;
  /**
   * How many trailing bytes of captured stderr are kept for the error message.
   * @default 8192
   */
  stderrTailBytes?: number;
  /**
   * Read this file instead of the stage's stdin (`< file`), opened when the stage starts and
   * relative to its cwd. Whatever was connected to its stdin is closed at once (a writer there
   * then gets SIGPIPE, as in a shell).
   * @default none: the stage's stdin
   */
  stdinFile?: string;
  /**
   * Write this file instead of the stage's stdout (`> file`; `>> file` with `stdoutAppend`).
   * @default none: the stage's stdout
   */
  stdoutFile?: string;
  /**
   * Append to `stdoutFile` instead of truncating it.
   * @default false
   */
  stdoutAppend?: boolean;
}

const STDERR_SETTLE_MS = 100;

/** What `start` prepares before spawning, and must undo if it fails. */
interface SpawnPlan {
  stdio: StdioOptions & unknown[];
  /** fds the parent must close once the child has its copies (or on failure). */
  toClose: number[];
  /** Undo steps for pipes whose parent side is kept (run only on failure). */
  cleanups: (() => void)[];
  /** The write end of a pipe a stdin stream is pumped into. */
  pumpFd?: number;
  /** The read end of a pipe copied out into a stdout stream. */
  copyFd?: number;
  /** A stderr stream without an fd, fed from a pipe. */
  stderrStream?: Writable;
}

/**
 * A command stage: runs `file` with `args` (no shell, no globbing, no `$VAR`), in its own process
 * group (`detached: true`).
 *
 * Guarantees:
 * - It prefers fds on both sides: next to another command it gets one end of a kernel pipe; at
 *   the ends of the pipeline it gets the caller's fd (file, TTY, socket, `process.stdout`) as is.
 *   The parent's copy of every fd it hands the child is closed right after spawning, so EOF and
 *   SIGPIPE behave as in a shell (`yes | head -1` ends at once, `yes` killed by SIGPIPE).
 * - Given a stream without an fd, it makes a pipe and pumps or copies through pooled 64 KiB
 *   buffers; a source stream that never ends is let go when the child exits.
 * - It fails with `StageStartError` (ENOENT for a missing command or cwd, EACCES, …) when it
 *   cannot be spawned, leaving no child and no fd; with `CommandError` (exit code or signal, and
 *   the tail of its stderr) when it exits unsuccessfully.
 * - When the pipeline is aborted its whole group gets SIGTERM, then SIGKILL after `graceMs`;
 *   its error is then the abort reason. `wait()` resolves only once the child is reaped, its
 *   stderr drained and every copy finished.
 * - Throws `InvalidOptionError` at once for an empty `file`, non-string `args` or a NUL byte.
 *
 * `command(file, args)` mirrors `child_process.spawn`, execa and go-pipe's `Command`; the rest of
 * sluice takes one `argv` array.
 *
 * @example
 * ```ts
 * await pipeline({ stdout: process.stdout })
 *   .add(command('git', ['log', '--oneline']), command('head', ['-5']))
 *   .run();
 * ```
 */
export function command(file: string, args: readonly string[] = [], options: CommandOptions = {}) {
  return new CommandStage(file, args, options);
}

/** The stage `command` returns; see `command` for its guarantees. */
export class CommandStage implements ProcessStage {
  readonly name: string;
  /** The program, as given to `command` (looked up on `PATH` unless it holds a `/`). */
  readonly file: string;
  /** The arguments, as given to `command`. */
  readonly args: readonly string[];
  readonly preferences: StagePreferences = { stdin: 'fd', stdout: 'fd' };
  readonly #options: CommandOptions;
  #child: ChildProcess | undefined;
  #started = false;
  #exit: ExitInfo | undefined;
  #killReason: unknown;
  /** Whether the leader had already exited when the stop began (outcome `'natural'`). */
  #exitedBeforeKill = false;
  /** The stop under way (`kill`), resolved once no member of the group runs. */
  #stopping: Promise<unknown> | undefined;
  #done: Promise<void> | undefined;
  #stderrTail: Buffer[] = [];
  #stderrTailLen = 0;
  #pump: Pump | undefined;
  #copy: Copy | undefined;
  #graceMs = DEFAULT_GRACE_MS;

  constructor(file: string, args: readonly string[], options: CommandOptions) {
    if (typeof file !== 'string' || file === '' || file.includes('\0')) {
      throw new InvalidOptionError('file', 'must be a non-empty string without NUL');
    }
    if (!Array.isArray(args)) throw new InvalidOptionError('args', `${file}: must be an array`);
    for (const [i, a] of args.entries()) {
      if (typeof a !== 'string' || a.includes('\0')) {
        throw new InvalidOptionError(
          `args[${i}]`,
          `${file}: must be a string without NUL, got ${typeof a === 'string' ? 'a NUL' : typeof a}`,
        );
      }
    }
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError('options', `${file}: must be an object`);
    }
    const tail = options.stderrTailBytes;
    if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) {
      throw new InvalidOptionError('stderrTailBytes', 'must be a non-negative integer');
    }
    this.file = file;
    this.args = [...args];
    this.name = options.name ?? file;
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Bytes pumped into the child's stdin / copied out of its stdout, where sluice copies. */
  get copiedBytes(): {
    /** Bytes written into the child's stdin; undefined when the child read an fd directly. */
    stdin?: number;
    /** Bytes copied out of the child's stdout; undefined when it wrote to an fd directly. */
    stdout?: number;
  } {
    return { stdin: this.#pump?.bytes, stdout: this.#copy?.bytes };
  }

  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void {
    if (this.#started) {
      stdin.close();
      stdout.close();
      throw new PipeUsageError(`${this.name}: stage started twice`);
    }
    this.#started = true;
    this.#graceMs = ctx.graceMs;
    const plan: SpawnPlan = { stdio: ['ignore', 'ignore', 'pipe'], toClose: [], cleanups: [] };
    try {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const cwd = this.#cwd(ctx);
      this.#plumbStdin(plan, stdin, cwd);
      this.#plumbStdout(plan, stdout, cwd);
      this.#plumbStderr(plan, cwd);
      const env = this.#env(ctx);
      const child = this.#spawn(plan, stdin, stdout, cwd, env);
      this.#startCopies(plan, child, stdin, stdout);
      this.#done = this.#watch(child, ctx, stdin, stdout);
    } catch (e) {
      for (const fd of plan.toClose) closeQuietly(fd);
      for (const c of plan.cleanups) c();
      stdin.close();
      stdout.close();
      throw e;
    }
  }

  /** stdin: a `< file`, the fd given, or a pipe that a stream is pumped into. */
  #plumbStdin(plan: SpawnPlan, stdin: InputStream, cwd: string | undefined): void {
    const o = this.#options;
    if (o.stdinFile !== undefined) {
      const fd = this.#open(o.stdinFile, 'r', cwd);
      plan.toClose.push(fd);
      plan.stdio[0] = fd;
      stdin.close();
    } else if (stdin.kind === 'fd') {
      plan.stdio[0] = stdin.fd;
    } else if (stdin.kind === 'stream') {
      const p = this.#pipe();
      plan.stdio[0] = p.readFd;
      plan.toClose.push(p.readFd);
      plan.pumpFd = p.writeFd;
      plan.cleanups.push(() => p.closeWrite());
    }
  }

  /** stdout: a `> file`, the fd given, or a pipe copied into a stream. */
  #plumbStdout(plan: SpawnPlan, stdout: OutputStream, cwd: string | undefined): void {
    const o = this.#options;
    if (o.stdoutFile !== undefined) {
      const fd = this.#open(o.stdoutFile, o.stdoutAppend ? 'a' : 'w', cwd);
      plan.toClose.push(fd);
      plan.stdio[1] = fd;
      stdout.close();
    } else if (stdout.kind === 'fd') {
      plan.stdio[1] = stdout.fd;
    } else if (stdout.kind === 'stream') {
      const p = this.#pipe();
      plan.stdio[1] = p.writeFd;
      plan.toClose.push(p.writeFd);
      plan.copyFd = p.readFd;
      plan.cleanups.push(() => p.closeRead());
    }
  }

  /** stderr: captured (a tail kept), inherited, ignored, with stdout, an fd, a file or a stream. */
  #plumbStderr(plan: SpawnPlan, cwd: string | undefined): void {
    const err = this.#options.stderr ?? 'capture';
    const { stdio } = plan;
    if (err === 'capture') stdio[2] = 'pipe';
    else if (err === 'inherit') stdio[2] = 'inherit';
    else if (err === 'ignore') stdio[2] = 'ignore';
    else if (err === 'stdout') stdio[2] = stdio[1]!;
    else if (typeof err === 'number') stdio[2] = err;
    else if (isFileTarget(err)) {
      const fd = this.#open(err.file, err.append ? 'a' : 'w', cwd);
      plan.toClose.push(fd);
      stdio[2] = fd;
    } else {
      const fd = fdOfStream(err);
      if (fd !== undefined) stdio[2] = fd;
      else {
        stdio[2] = 'pipe';
        plan.stderrStream = err;
      }
    }
  }

  /** Spawns the child and closes the parent's copies of its fds; throws `StageStartError`. */
  #spawn(
    plan: SpawnPlan,
    stdin: InputStream,
    stdout: OutputStream,
    cwd: string | undefined,
    env: NodeJS.ProcessEnv | undefined,
  ): ChildProcess {
    let child: ChildProcess;
    try {
      child = spawn(this.file, this.args, { stdio: plan.stdio, detached: true, cwd, env });
    } catch (e) {
      const errno = (e as { code?: string }).code;
      throw new StageStartError(this.name, (e as Error).message, errno, {
        cause: e,
        reason: errno && RESOURCE_ERRNOS.has(errno) ? 'resources' : 'other',
      });
    }
    this.#child = child;
    // The child has its copies now: close the parent's right away.
    for (const fd of plan.toClose) closeQuietly(fd);
    plan.toClose.length = 0;
    if (stdin.kind === 'fd') stdin.close();
    // A caller's stream that owns the fd (a socket, a file stream) is closed only when the
    // child is done: ending a socket shuts it down for the child too.
    const o = this.#options;
    if (o.stdoutFile !== undefined || (stdout.kind === 'fd' && !stdout.stream)) stdout.close();
    if (child.pid === undefined) {
      child.on('error', () => {});
      child.stderr?.destroy();
      throw diagnoseSpawnFailure(this.name, this.file, cwd, env);
    }
    plan.cleanups.length = 0;
    return child;
  }

  /** Starts the pump into stdin, the copy out of stdout and the stderr reader, as needed. */
  #startCopies(plan: SpawnPlan, child: ChildProcess, stdin: InputStream, stdout: OutputStream) {
    if (plan.pumpFd !== undefined) {
      const src = stdin.readable();
      this.#pump = pumpToFd(src, plan.pumpFd, { destroySource: false });
      this.#pump.done.then(() => stdin.close());
    }
    if (plan.copyFd !== undefined) {
      // The copy ends the destination only where this stage owns it.
      const dst = stdout.stream as Writable;
      this.#copy = pooledCopy(plan.copyFd, dst, { end: stdout.closing });
    }
    if (child.stderr) {
      if (plan.stderrStream) {
        child.stderr.pipe(plan.stderrStream, { end: false });
      } else {
        const limit = this.#options.stderrTailBytes ?? 8192;
        child.stderr.on('data', (chunk: Buffer) => this.#keepTail(chunk, limit));
      }
      child.stderr.on('error', () => {});
    }
  }

  /** One kernel pipe for a stream end; out of fds, a `StageStartError` naming this stage. */
  #pipe(): PipePair {
    try {
      return createPipes(1)[0]!;
    } catch (e) {
      throw pipeStartError(this.name, e);
    }
  }

  wait(): Promise<void> {
    if (!this.#done) return Promise.reject(new PipeUsageError(`${this.name}: wait before start`));
    return this.#done;
  }

  /**
   * Stops the process group: proc's `terminateGroup` (SIGTERM to the group, SIGKILL to whatever
   * is left after `graceMs`), the one stop sequence of sluice. The stage's error becomes `reason`
   * if the command did not exit successfully on its own; `wait()` also waits for the group to
   * be gone, so no grandchild outlives the stop.
   */
  kill(reason: unknown): void {
    const child = this.#child;
    if (!child || child.pid === undefined || this.#exit || this.#stopping) return;
    this.#killReason = reason;
    // A leader that already exited (a zombie Node has not reaped yet) ended on its own.
    this.#exitedBeforeKill = readStat(child.pid)?.state === 'Z';
    this.#stopping = terminateGroup(child.pid, { graceMs: this.#graceMs }).catch(() => undefined);
  }

  #open(file: string, flags: 'r' | 'w' | 'a', cwd: string | undefined): number {
    try {
      return openSync(resolve(cwd ?? process.cwd(), file), flags, 0o666);
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new StageStartError(
        this.name,
        `cannot open ${file} for ${flags === 'r' ? 'reading' : 'writing'}${code ? ` (${code})` : ''}`,
        code,
        { cause: e, reason: 'file' },
      );
    }
  }

  #cwd(ctx: StageContext): string | undefined {
    const own = this.#options.cwd;
    if (own === undefined) return ctx.cwd;
    if (ctx.cwd !== undefined && !isAbsolute(own)) return resolve(ctx.cwd, own);
    return own;
  }

  #env(ctx: StageContext): NodeJS.ProcessEnv | undefined {
    const own = this.#options.env;
    const pipelineEnv = ctx.env;
    let any = false;
    for (const _ in pipelineEnv) {
      any = true;
      break;
    }
    if (!any && own === undefined) return undefined;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const layer of [pipelineEnv, own ?? {}]) {
      for (const [k, v] of Object.entries(layer)) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
    }
    return env;
  }

  #keepTail(chunk: Buffer, limit: number): void {
    this.#stderrTail.push(chunk);
    this.#stderrTailLen += chunk.length;
    while (this.#stderrTailLen - this.#stderrTail[0]!.length >= limit) {
      this.#stderrTailLen -= this.#stderrTail.shift()!.length;
    }
  }

  #stderrText(): string {
    const limit = this.#options.stderrTailBytes ?? 8192;
    const all = Buffer.concat(this.#stderrTail);
    return all.subarray(Math.max(0, all.length - limit)).toString('utf8');
  }

  #watch(
    child: ChildProcess,
    ctx: StageContext,
    stdin: InputStream,
    stdout: OutputStream,
  ): Promise<void> {
    const onAbort = () => this.kill(ctx.signal.reason);
    setMaxListeners(0, ctx.signal);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', () => {});
    return new Promise<void>((resolveDone, rejectDone) => {
      child.once('exit', (code, signal) => {
        this.#exit = {
          exitCode: code,
          signal: signal as NodeJS.Signals | null,
          // SIGKILL cannot be caught: a stopped leader that died of it needed the hard step.
          outcome:
            !this.#stopping || this.#exitedBeforeKill
              ? 'natural'
              : signal === 'SIGKILL'
                ? 'hard'
                : 'soft',
        };
        ctx.signal.removeEventListener('abort', onAbort);
        // A source that never ends must not hold the stage open once the child is gone.
        this.#pump?.stop();
        stdin.close();
        // Stopped by the pipeline: its output is not wanted, and a destination that never
        // drains must not hold the stage open either.
        if (this.#stopping) this.#copy?.stop();
        const stderrDone = child.stderr ? settleStream(child.stderr) : Promise.resolve();
        void Promise.all([stderrDone, this.#copy?.done, this.#pump?.done, this.#stopping]).then(
          ([, copyErr]) => {
            stdout.close();
            const error = this.#error(code, signal as NodeJS.Signals | null, copyErr);
            if (error === undefined) resolveDone();
            else rejectDone(error);
          },
        );
      });
    });
  }

  #error(code: number | null, signal: NodeJS.Signals | null, copyErr: unknown): unknown {
    if (this.#stopping && (signal !== null || code !== 0)) return this.#killReason;
    if (signal !== null || code !== 0) {
      return new CommandError({
        stage: this.name,
        file: this.file,
        args: this.args,
        pid: this.#child?.pid,
        exitCode: code,
        signal,
        stderrTail: this.#stderrText(),
      });
    }
    return copyErr ?? undefined;
  }
}

/**
 * Resolves once a child's stderr reached EOF, or shortly after the child exited when a
 * grandchild still holds it open (the stream is then destroyed).
 */
function settleStream(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise<void>((r) => {
    const timer = setTimeout(() => {
      stream.destroy();
    }, STDERR_SETTLE_MS);
    const done = () => {
      clearTimeout(timer);
      r();
    };
    stream.once('close', done);
  });
}

function isFileTarget(v: unknown): v is { file: string; append?: boolean } {
  return typeof v === 'object' && v !== null && typeof (v as { file?: unknown }).file === 'string';
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}
