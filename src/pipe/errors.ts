/**
 * Typed errors of sluice/pipe. Every failure a pipeline reports is one of these (or the abort
 * reason of its signal, or an error a function stage threw), so callers branch on the class or
 * `code`, never on the message. Every class extends `PipeError`, which extends `SluiceError`;
 * codes are `ERR_SLUICE_PIPE_<WHAT>`. A bad option is sluice's `InvalidOptionError`, as in every
 * part.
 */
import { SluiceError } from '../proc/index.js';

/**
 * Base class of sluice/pipe's own errors. `code` is stable (`ERR_SLUICE_PIPE_*`); the message is
 * for people. `instanceof` works across two copies of sluice (see `SluiceError`).
 */
export class PipeError extends SluiceError {}

/**
 * Misuse of the API, raised synchronously where the mistake is made: `add` after `start`, a
 * second `start`, a stage that forbids a stream that is connected. Nothing has been spawned or
 * opened when it is thrown (or it has all been closed). A bad option or argument is an
 * `InvalidOptionError` instead.
 */
export class PipeUsageError extends PipeError {
  constructor(message: string) {
    super('ERR_SLUICE_PIPE_USAGE', message);
  }
}

/** A signal a command died of, or null. */
export type SignalName = NodeJS.Signals;

/**
 * A command stage that exited unsuccessfully: a non-zero exit code, or death by a signal it was
 * not sent by sluice (for example SIGPIPE after its reader went away). `stderrTail` holds the last
 * bytes it wrote to stderr when stderr was captured (the default).
 */
export class CommandError extends PipeError {
  /** The stage's name (the program's name unless the stage was given one). */
  readonly stage: string;
  /** The program as given to `command(file, args)`. */
  readonly file: string;
  /** The arguments as given, without the program. */
  readonly args: readonly string[];
  /** The process id it ran as; undefined if it never got one. */
  readonly pid: number | undefined;
  /** The exit code; null when a signal ended it. */
  readonly exitCode: number | null;
  /** The signal that ended it; null when it exited with a code. */
  readonly signal: SignalName | null;
  /**
   * The last bytes it wrote to stderr as UTF-8 text (up to the stage's `stderrTailBytes`, 8192 by
   * default); empty when stderr was not captured or it wrote nothing.
   */
  readonly stderrTail: string;
  constructor(init: {
    stage: string;
    file: string;
    args: readonly string[];
    pid: number | undefined;
    exitCode: number | null;
    signal: SignalName | null;
    stderrTail: string;
  }) {
    const how =
      init.signal !== null ? `killed by signal ${init.signal}` : `exit status ${init.exitCode}`;
    const tail = init.stderrTail.trim();
    super(
      init.signal === 'SIGPIPE' ? 'ERR_SLUICE_PIPE_SIGPIPE' : 'ERR_SLUICE_PIPE_COMMAND_FAILED',
      `${init.stage}: ${how}${tail ? `: ${lastLines(tail, 5, 500)}` : ''}`,
    );
    this.stage = init.stage;
    this.file = init.file;
    this.args = init.args;
    this.pid = init.pid;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.stderrTail = init.stderrTail;
  }
}

/** What a stage that could not start lacked; see `StageStartError.reason`. */
export type StageStartReason = 'command' | 'cwd' | 'file' | 'resources' | 'other';

/**
 * A stage that could not start: a command that does not exist or may not be executed, a cwd that
 * is missing, an fd that could not be opened, no fd left for its pipes (`EMFILE`). Nothing of
 * that stage is left running or open. `errno` is the errno name (`ENOENT`, `EACCES`, `ENOTDIR`,
 * `EMFILE`, …) where there is one.
 */
export class StageStartError extends PipeError {
  /** The name of the stage that could not start. */
  readonly stage: string;
  /**
   * The system error's name (`ENOENT`, `EACCES`, `EMFILE`, ...); undefined when no system call
   * failed.
   */
  readonly errno: string | undefined;
  /**
   * What could not be had: `'command'` (not found, or not executable), `'cwd'`, `'file'` (a
   * redirection's file), `'resources'` (out of fds or processes: `EMFILE`, `ENFILE`, `EAGAIN`),
   * or `'other'`.
   */
  readonly reason: StageStartReason;
  constructor(
    stage: string,
    message: string,
    errno?: string,
    options?: { cause?: unknown; reason?: StageStartReason },
  ) {
    super('ERR_SLUICE_PIPE_STAGE_START', `${stage}: ${message}`, options);
    this.stage = stage;
    this.errno = errno;
    this.reason = options?.reason ?? 'other';
  }
}

/**
 * A write into an in-memory pipe whose reader has gone (go-pipe's io.ErrClosedPipe): what a
 * function stage sees when the stage after it stopped reading. A pipe error (see `isPipeError`).
 */
export class ClosedPipeError extends PipeError {
  constructor(message = 'write on closed pipe') {
    super('ERR_SLUICE_PIPE_CLOSED', message);
  }
}

/** A stage killed by `memoryLimit` because its process tree's RssAnon passed the limit. */
export class MemoryLimitError extends PipeError {
  /** The name of the stage that was stopped. */
  readonly stage: string;
  /** The limit that was passed, in bytes. */
  readonly limit: number;
  /** The process tree's summed RssAnon in the sample that passed the limit, in bytes. */
  readonly used: number;
  constructor(stage: string, limit: number, used: number) {
    super(
      'ERR_SLUICE_PIPE_MEMORY_LIMIT',
      `${stage}: memory limit exceeded: ${formatBytes(used)} used, limit ${formatBytes(limit)}`,
    );
    this.stage = stage;
    this.limit = limit;
    this.used = used;
  }
}

/**
 * `Pipeline.output()`/`text()` read more than `maxBufferBytes` bytes; the pipeline was stopped.
 */
export class MaxBufferError extends PipeError {
  /** The limit that was passed, in bytes. */
  readonly maxBufferBytes: number;
  constructor(maxBufferBytes: number) {
    super(
      'ERR_SLUICE_PIPE_MAX_BUFFER',
      `pipeline output exceeded maxBufferBytes (${formatBytes(maxBufferBytes)})`,
    );
    this.maxBufferBytes = maxBufferBytes;
  }
  /** @deprecated Use `maxBufferBytes`; removed in 0.3. */
  get maxBuffer(): number {
    return this.maxBufferBytes;
  }
}

/**
 * A stage that had not settled `graceMs` after the pipeline was stopped (a function stage that
 * ignores its signal and never returns): the pipeline stops waiting for it, so `wait()` always
 * settles. Its streams were destroyed when the pipeline was stopped; the function itself cannot be
 * killed, but it holds nothing of the pipeline's. `cause` is why the pipeline was stopped.
 */
export class StageStuckError extends PipeError {
  /** The name of the stage given up on. */
  readonly stage: string;
  /** How long the pipeline waited for it after the stop, in milliseconds. */
  readonly graceMs: number;
  constructor(stage: string, graceMs: number, options?: { cause?: unknown }) {
    super(
      'ERR_SLUICE_PIPE_STAGE_STUCK',
      `${stage}: did not stop within ${graceMs} ms after the pipeline was stopped`,
      options,
    );
    this.stage = stage;
    this.graceMs = graceMs;
  }
}

/** A syntax error in an `sh` template or a `sluice run` command line; `offset` is where. */
export class ShSyntaxError extends PipeError {
  /** 0-based character offset in the command line where the error was found. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('ERR_SLUICE_SHELL_SYNTAX', message);
    this.offset = offset;
  }
}

/**
 * What `Pipeline.wait()` rejects with: the stage whose error was chosen by go-pipe's rules
 * (stages waited in reverse; the earliest non-pipe error wins; a pipe error counts only where
 * nothing else failed, and not upstream of a stage that finished early). The message names the
 * stage and its exit code or signal and the tail of its stderr; `cause` is the stage's own error
 * (a `CommandError`, a `StageStartError`, a `MemoryLimitError`, the abort reason, or whatever a
 * function stage threw).
 */
export class PipelineError extends PipeError {
  /** The name of the stage whose error was chosen. */
  readonly stage: string;
  /** That stage's 0-based position in the pipeline. */
  readonly stageIndex: number;
  /**
   * The stage's exit code when its error is a `CommandError` that exited with a code; null
   * otherwise.
   */
  readonly exitCode: number | null;
  /** The signal that ended the stage when its error is a `CommandError`; null otherwise. */
  readonly signal: SignalName | null;
  /** The stage's stderr tail when its error is a `CommandError`; empty otherwise. */
  readonly stderrTail: string;
  constructor(stage: string, stageIndex: number, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    // Stage errors of sluice already start with the stage name; do not say it twice.
    const message = inner.startsWith(`${stage}: `) ? inner : `${stage}: ${inner}`;
    super(code(cause), message, { cause });
    this.stage = stage;
    this.stageIndex = stageIndex;
    this.exitCode = cause instanceof CommandError ? cause.exitCode : null;
    this.signal = cause instanceof CommandError ? cause.signal : null;
    this.stderrTail = cause instanceof CommandError ? cause.stderrTail : '';
  }
}

/** The cause's code where it is one of sluice's, else `ERR_SLUICE_PIPE_STAGE_FAILED`. */
function code(cause: unknown): string {
  if (cause instanceof SluiceError) return cause.code;
  return 'ERR_SLUICE_PIPE_STAGE_FAILED';
}

/**
 * Thrown (or returned through a stage's error) by a function stage to say "I have read all I
 * want": the stage counts as successful, its stdin is closed, and pipe errors of the stages
 * before it (which were still writing) are forgiven. Throw the class itself (`throw FinishEarly`,
 * as go-pipe's sentinel) or an instance (`throw new FinishEarly()`); both are recognised.
 */
export class FinishEarly extends Error {
  constructor(message = 'finished early') {
    super(message);
    this.name = 'FinishEarly';
  }
}

function lastLines(text: string, lines: number, chars: number): string {
  let t = text.length > chars ? `…${text.slice(-chars)}` : text;
  const parts = t.split('\n');
  if (parts.length > lines) t = `…${parts.slice(-lines).join('\n')}`;
  return t;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
