/**
 * Typed errors of sluice/sessions. Every error the sessions library, its daemon and its client
 * raise is a {@link SessionsError} (itself a `SluiceError`), except a bad option or argument,
 * which is proc's `InvalidOptionError` as in every part of sluice. Callers (the daemon, the CLI)
 * branch on the stable `code` (`ERR_SLUICE_SESSIONS_*` for the library, `ERR_SLUICE_DAEMON_*`
 * for the daemon and its client) without parsing messages. Each message is one clear line.
 */
import { InvalidOptionError, SluiceError } from '../../proc/index.js';

/**
 * Base class of every sessions error: the library's (`ERR_SLUICE_SESSIONS_*`) and the daemon's
 * and client's (`ERR_SLUICE_DAEMON_*`). `code` is stable; the message is for people.
 */
export class SessionsError extends SluiceError {}

/**
 * @deprecated Renamed {@link SessionsError} (the one base of the part, named like the part).
 * The old name stays for one minor version.
 */
export const SessionError = SessionsError;
/** @deprecated Renamed {@link SessionsError}. */
export type SessionError = SessionsError;

/**
 * @deprecated A bad argument is now proc's `InvalidOptionError` (`ERR_SLUICE_INVALID_OPTION`),
 * the same error every part raises for a bad option; this is the same class under its old name.
 */
export const InvalidArgumentError = InvalidOptionError;
/** @deprecated Use `InvalidOptionError`. */
export type InvalidArgumentError = InvalidOptionError;

/** No session has this id, nor an id that starts with this prefix, in the registry. */
export class SessionNotFoundError extends SessionsError {
  /** The id or prefix that was looked up, as given. */
  readonly id: string;
  constructor(id: string) {
    super('ERR_SLUICE_SESSIONS_NOT_FOUND', `no session ${JSON.stringify(id)}`);
    this.id = id;
  }
}

/**
 * An id prefix too short to name a session safely: `SessionRegistry.resolve` takes a whole id or a
 * prefix of at least `minLength` characters (`MIN_ID_PREFIX_LENGTH`, 4), so a stray character
 * never picks a session by chance. Nothing was done.
 */
export class SessionIdTooShortError extends SessionsError {
  /** What was given. */
  readonly prefix: string;
  /** The shortest prefix accepted. */
  readonly minLength: number;
  constructor(prefix: string, minLength: number) {
    super(
      'ERR_SLUICE_SESSIONS_ID_TOO_SHORT',
      `session id ${JSON.stringify(prefix)} is too short: give the whole id or at least ${minLength} of its characters`,
    );
    this.prefix = prefix;
    this.minLength = minLength;
  }
}

/**
 * An id prefix that several sessions' ids start with; `matches` lists them (oldest first) and so
 * does the message (the first ten). Nothing was done.
 */
export class AmbiguousSessionIdError extends SessionsError {
  /** What was given. */
  readonly prefix: string;
  /** The ids that start with `prefix`, oldest session first. */
  readonly matches: readonly string[];
  constructor(prefix: string, matches: readonly string[]) {
    const shown = matches.slice(0, 10).join(', ');
    const more = matches.length > 10 ? ` and ${matches.length - 10} more` : '';
    super(
      'ERR_SLUICE_SESSIONS_AMBIGUOUS_ID',
      `session id ${JSON.stringify(prefix)} is ambiguous: ${matches.length} sessions match (${shown}${more}); give more characters`,
    );
    this.prefix = prefix;
    this.matches = [...matches];
  }
}

/** The stream's writer seat is taken and the attach did not ask to steal it. */
export class AlreadyAttachedError extends SessionsError {
  /** The full id of the session. */
  readonly sessionId: string;
  /** The stream whose writer seat is taken (`stdout` or `stderr`). */
  readonly stream: string;
  constructor(sessionId: string, stream: string) {
    super(
      'ERR_SLUICE_SESSIONS_ALREADY_ATTACHED',
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
export class StreamUnavailableError extends SessionsError {
  /** The full id of the session. */
  readonly sessionId: string;
  /** The stream that was asked for. */
  readonly stream: string;
  constructor(sessionId: string, stream: string, why: string) {
    super(
      'ERR_SLUICE_SESSIONS_STREAM_UNAVAILABLE',
      `session ${sessionId} has no ${stream} stream: ${why}`,
    );
    this.sessionId = sessionId;
    this.stream = stream;
  }
}

/** `writeStdin` after stdin was closed (by `{ close: true }`, by the child, or at exit). */
export class StdinClosedError extends SessionsError {
  /** The full id of the session. */
  readonly sessionId: string;
  constructor(sessionId: string, why = 'stdin is closed') {
    super('ERR_SLUICE_SESSIONS_STDIN_CLOSED', `session ${sessionId}: ${why}`);
    this.sessionId = sessionId;
  }
}

/** An operation that needs a running child (`resize`, writing) on a session that has exited. */
export class SessionExitedError extends SessionsError {
  /** The full id of the session. */
  readonly sessionId: string;
  constructor(sessionId: string, what: string) {
    super('ERR_SLUICE_SESSIONS_EXITED', `session ${sessionId} has exited: cannot ${what}`);
    this.sessionId = sessionId;
  }
}

/** `remove` of a session whose child still runs, without `{ force: true }`. */
export class SessionRunningError extends SessionsError {
  /** The full id of the session. */
  readonly sessionId: string;
  constructor(sessionId: string) {
    super(
      'ERR_SLUICE_SESSIONS_RUNNING',
      `session ${sessionId} is still running (terminate it first, or remove with force)`,
    );
    this.sessionId = sessionId;
  }
}

/** `resize` of a pipe session: only a PTY has a size. */
export class NotAPtyError extends SessionsError {
  /** The full id of the session. */
  readonly sessionId: string;
  constructor(sessionId: string) {
    super(
      'ERR_SLUICE_SESSIONS_NOT_A_PTY',
      `session ${sessionId} is a pipe session: only a PTY can be resized`,
    );
    this.sessionId = sessionId;
  }
}

/** Any use of a detached or stolen attachment. */
export class AttachmentClosedError extends SessionsError {
  constructor(message: string) {
    super('ERR_SLUICE_SESSIONS_ATTACHMENT_CLOSED', message);
  }
}

/** Input or resize through an attachment made with `{ readOnly: true }`. */
export class ReadOnlyAttachmentError extends SessionsError {
  constructor(what: string) {
    super('ERR_SLUICE_SESSIONS_READ_ONLY', `a read-only attachment cannot ${what}`);
  }
}

/** The registry was shut down: it spawns nothing more. */
export class RegistryClosedError extends SessionsError {
  constructor() {
    super('ERR_SLUICE_SESSIONS_REGISTRY_CLOSED', 'the session registry is shut down');
  }
}
