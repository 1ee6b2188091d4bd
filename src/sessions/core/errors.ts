/**
 * Typed errors of sluice/sessions. Every error the session library raises for bad input or a bad
 * state is one of these, so callers (the daemon, the CLI) branch on `code` without parsing
 * messages. Each message is one clear line.
 */

/** Base class of every sessions error. `code` is stable; the message is for people. */
export class SessionError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A spawn request, attach option, size or buffer limit that can never be valid. */
export class InvalidArgumentError extends SessionError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** No session has this id in the registry. */
export class SessionNotFoundError extends SessionError {
  readonly id: string;
  constructor(id: string) {
    super('ERR_SESSION_NOT_FOUND', `no session ${JSON.stringify(id)}`);
    this.id = id;
  }
}

/** The stream's writer seat is taken and the attach did not ask to steal it. */
export class AlreadyAttachedError extends SessionError {
  readonly sessionId: string;
  readonly stream: string;
  constructor(sessionId: string, stream: string) {
    super(
      'ERR_ALREADY_ATTACHED',
      `session ${sessionId} ${stream} already has a writer attached (steal it, or attach read-only)`,
    );
    this.sessionId = sessionId;
    this.stream = stream;
  }
}

/**
 * The session has no such stream: `stderr` of a session whose stderr is merged into stdout, or of
 * a PTY session (a terminal has one merged output stream, named `stdout`).
 */
export class StreamUnavailableError extends SessionError {
  readonly sessionId: string;
  readonly stream: string;
  constructor(sessionId: string, stream: string, why: string) {
    super('ERR_STREAM_UNAVAILABLE', `session ${sessionId} has no ${stream} stream: ${why}`);
    this.sessionId = sessionId;
    this.stream = stream;
  }
}

/** `writeStdin` after stdin was closed (by `{ close: true }`, by the child, or at exit). */
export class StdinClosedError extends SessionError {
  readonly sessionId: string;
  constructor(sessionId: string, why = 'stdin is closed') {
    super('ERR_STDIN_CLOSED', `session ${sessionId}: ${why}`);
    this.sessionId = sessionId;
  }
}

/** An operation that needs a running child (`resize`, writing) on a session that has exited. */
export class SessionExitedError extends SessionError {
  readonly sessionId: string;
  constructor(sessionId: string, what: string) {
    super('ERR_SESSION_EXITED', `session ${sessionId} has exited: cannot ${what}`);
    this.sessionId = sessionId;
  }
}

/** `remove` of a session whose child still runs, without `{ force: true }`. */
export class SessionRunningError extends SessionError {
  readonly sessionId: string;
  constructor(sessionId: string) {
    super(
      'ERR_SESSION_RUNNING',
      `session ${sessionId} is still running (terminate it first, or remove with force)`,
    );
    this.sessionId = sessionId;
  }
}

/** `resize` of a pipe session: only a PTY has a size. */
export class NotAPtyError extends SessionError {
  readonly sessionId: string;
  constructor(sessionId: string) {
    super('ERR_NOT_A_PTY', `session ${sessionId} is a pipe session: only a PTY can be resized`);
    this.sessionId = sessionId;
  }
}

/** Input or resize through a read-only attachment, or any use of a detached/stolen one. */
export class AttachmentClosedError extends SessionError {
  constructor(message: string) {
    super('ERR_ATTACHMENT_CLOSED', message);
  }
}

/** Input or resize through an attachment made with `{ readOnly: true }`. */
export class ReadOnlyAttachmentError extends SessionError {
  constructor(what: string) {
    super('ERR_READ_ONLY', `a read-only attachment cannot ${what}`);
  }
}

/** The registry was shut down: it spawns nothing more. */
export class RegistryClosedError extends SessionError {
  constructor() {
    super('ERR_REGISTRY_CLOSED', 'the session registry is shut down');
  }
}
