/**
 * The errors the sessions client throws. Each is a `SessionsError` with a stable
 * `ERR_SLUICE_DAEMON_*` code and one clear message meant to be shown as it is (the CLI prints
 * exactly `sluice: <message>`).
 */
import { SessionsError } from '../core/errors.js';
import type { ErrorCode } from '../wire/protocol.js';

/**
 * Nothing answers at the socket: no daemon runs there (or it died). `hint` says how to start one;
 * `cause` is the system error behind it (ECONNREFUSED, ENOENT, a timeout), always an `Error`.
 */
export class DaemonNotRunningError extends SessionsError {
  /** The Unix socket path that was tried. */
  readonly socketPath: string;
  /** How to start a daemon for this socket, a phrase for people; the message ends with it. */
  readonly hint: string;
  constructor(socketPath: string, cause: Error, hint: string) {
    super(
      'ERR_SLUICE_DAEMON_NOT_RUNNING',
      `no sluice daemon answers at ${socketPath} (${describeCause(cause)}); ${hint}`,
      { cause },
    );
    this.socketPath = socketPath;
    this.hint = hint;
  }
}

function describeCause(cause: Error): string {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'no socket there';
  return cause.message;
}

/**
 * The client refused to talk to the socket, or could not: the socket or its folder is not this
 * user's or is writable by others, the process answering runs as another user, or the system
 * denied the connection. `reason` says which, in words; nothing was sent to the socket.
 */
export class DaemonAccessError extends SessionsError {
  /** The Unix socket path that was refused. */
  readonly socketPath: string;
  /** What was wrong, one line. */
  readonly reason: string;
  constructor(socketPath: string, reason: string, options?: { cause?: unknown }) {
    super(
      'ERR_SLUICE_DAEMON_ACCESS',
      `refusing the daemon socket ${socketPath}: ${reason}`,
      options,
    );
    this.socketPath = socketPath;
    this.reason = reason;
  }
}

/** The code of a `SessionsRequestError` for a protocol error code: `not-found` → `…_NOT_FOUND`. */
export function requestErrorCode(wireCode: string): string {
  return `ERR_SLUICE_DAEMON_${wireCode.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/**
 * The daemon answered a request with an error. `wireCode` is the protocol's error code
 * (`not-found`, `invalid`, … see docs/protocol.md); `code` is the same as a sluice code
 * (`ERR_SLUICE_DAEMON_NOT_FOUND`, `ERR_SLUICE_DAEMON_INVALID`, …).
 */
export class SessionsRequestError extends SessionsError {
  /** The protocol's error code. */
  readonly wireCode: ErrorCode;
  constructor(wireCode: ErrorCode, message: string) {
    super(requestErrorCode(wireCode), message);
    this.wireCode = wireCode;
  }
}

/** The connection ended (or broke) before the daemon answered. */
export class ConnectionClosedError extends SessionsError {
  constructor(message = 'the daemon closed the connection', options?: { cause?: unknown }) {
    super('ERR_SLUICE_DAEMON_CONNECTION_CLOSED', message, options);
  }
}
