/**
 * The errors of the shell language. Refusals (a syntax error, a construct the language does not
 * support, a template value of a kind that cannot be a word) are raised before anything runs and
 * name the line and column; `sluice run` exits 2 for them. Runtime errors of expansion (a glob
 * that matched nothing, `${NAME:?message}`) stop the script, as they stop a non-interactive bash
 * with `failglob`; `sluice run` exits with their `status`.
 */
import { PipeError, PipelineError, ShSyntaxError } from '../errors.js';

/** Sets the stable code on an error whose base class fixed another one. */
function setCode(error: Error, code: string): void {
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
}

/**
 * Malformed shell text: an unterminated quote, a `|` with nothing after it, an unmatched `)`.
 * Code `ERR_SLUICE_SHELL_SYNTAX`. A `ShSyntaxError` (`offset` is the character offset in the
 * source), so code written for the earlier grammar keeps catching it.
 */
export class ShellSyntaxError extends ShSyntaxError {
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column of the problem (a template value counts as one column). */
  readonly column: number;
  /** The bare description, without the position. */
  readonly reason: string;
  constructor(reason: string, at: { line: number; column: number; offset: number }) {
    super(`${reason} (line ${at.line}, column ${at.column})`, at.offset);
    setCode(this, 'ERR_SLUICE_SHELL_SYNTAX');
    this.line = at.line;
    this.column = at.column;
    this.reason = reason;
  }
}

/**
 * A construct the language refuses rather than misread: control flow (`if`, `for`, `while`,
 * `case`, functions), `&` background jobs, arithmetic, process substitution, a builtin that needs
 * a real shell (`eval`, `read`, `exec`, …). `construct` names it as written. Code
 * `ERR_SLUICE_SHELL_UNSUPPORTED`.
 */
export class ShellUnsupportedError extends ShellSyntaxError {
  /** The construct as written, e.g. `'if'`, `'&'`, `'$((…))'`. */
  readonly construct: string;
  constructor(
    construct: string,
    why: string,
    at: { line: number; column: number; offset: number },
  ) {
    super(`${construct} is not supported: ${why}`, at);
    setCode(this, 'ERR_SLUICE_SHELL_UNSUPPORTED');
    this.construct = construct;
  }
}

/**
 * A template value that cannot be a word (`undefined`, `null`, a plain object, a function), an
 * array inside a longer word, or a stream or buffer where only a redirection or stdin can take
 * it. Code `ERR_SLUICE_SHELL_BAD_VALUE`.
 */
export class ShellValueError extends ShellSyntaxError {
  constructor(reason: string, at: { line: number; column: number; offset: number }) {
    super(reason, at);
    setCode(this, 'ERR_SLUICE_SHELL_BAD_VALUE');
  }
}

/**
 * An expansion that stops the script while it runs: a glob that matched nothing
 * (`ERR_SLUICE_SHELL_NO_MATCH`, `pattern` set), `${NAME:?message}` or `set -u` on an unset
 * variable (`ERR_SLUICE_SHELL_UNSET`), a `cd` into nowhere is not one of these (it is a status).
 * `status` is the exit status the script ends with (bash's: 1 for a glob, 127 for `:?`).
 */
export class ShellExpansionError extends PipeError {
  /** The status the script ends with. */
  readonly status: number;
  /** The glob pattern that matched nothing, for `ERR_SLUICE_SHELL_NO_MATCH`. */
  readonly pattern: string | undefined;
  constructor(code: string, message: string, status: number, pattern?: string) {
    super(code, message);
    this.status = status;
    this.pattern = pattern;
  }
}

/** What a finished script produced; see `ShellResult` in the template module. */
export interface ShellOutcome {
  /** The script's exit status (bash's `$?`). */
  readonly exitCode: number;
  /** What the script wrote to stdout where it was captured; empty when it was not. */
  readonly stdout: Buffer;
  /** What the script wrote to stderr where it was captured; empty when it was not. */
  readonly stderr: Buffer;
}

/**
 * A script (template or `sluice run`) that ended with a non-zero status. It is a
 * `PipelineError`: `stage` names the command whose failure decided the status (chosen as the
 * pipeline chooses: the earliest real failure, a pipe error only when nothing else failed), and
 * `cause` is that command's own error. `exitCode` is the script's status (bash's `$?`), and
 * `stdout` and `stderr` what the script wrote where they were captured. Code: the cause's, or
 * `ERR_SLUICE_SHELL_EXIT` for a status from a builtin (`exit 3`, `false`).
 */
export class ShellExitError extends PipelineError {
  /** The script's exit status (never 0). */
  readonly status: number;
  /** What the script wrote to stdout where it was captured; empty when it was not. */
  readonly stdout: Buffer;
  /** What the script wrote to stderr where it was captured; empty when it was not. */
  readonly stderr: Buffer;
  constructor(stage: string, stageIndex: number, cause: unknown, outcome: ShellOutcome) {
    super(stage, stageIndex, cause);
    if (!(cause instanceof PipeError)) setCode(this, 'ERR_SLUICE_SHELL_EXIT');
    Object.defineProperty(this, 'exitCode', { value: outcome.exitCode, enumerable: true });
    this.status = outcome.exitCode;
    this.stdout = outcome.stdout;
    this.stderr = outcome.stderr;
  }
}

/**
 * A status bash reports without stopping the script, as a stage's error: a program not found
 * (127, `ERR_SLUICE_SHELL_NOT_FOUND`), a redirection that cannot be opened (1), a builtin that
 * failed (`ERR_SLUICE_SHELL_STATUS`). `report`: the message still has to be printed on stderr.
 */
export class StatusError extends PipeError {
  /** The status the command ends with (127 for a program not found). */
  readonly status: number;
  /**
   * Whether the message still has to be printed on the script's stderr (as bash would print it);
   * false when it was already written.
   */
  readonly report: boolean;
  constructor(status: number, message: string, options?: { cause?: unknown; report?: boolean }) {
    super(
      status === 127 ? 'ERR_SLUICE_SHELL_NOT_FOUND' : 'ERR_SLUICE_SHELL_STATUS',
      message,
      options,
    );
    this.status = status;
    this.report = options?.report ?? false;
  }
}
