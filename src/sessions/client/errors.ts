/**
 * The errors the sessions client throws. Each has one clear message meant to be shown as it is
 * (the CLI prints exactly `sluice: <message>`).
 */
import type { ErrorCode } from '../wire/protocol.js';

/** Nothing answers at the socket: no daemon runs there (or it died). `hint` says how to start one. */
export class DaemonNotRunningError extends Error {
  readonly socketPath: string;
  readonly hint: string;
  constructor(socketPath: string, cause: string, hint: string) {
    super(`no sluice daemon answers at ${socketPath} (${cause}); ${hint}`);
    this.name = 'DaemonNotRunningError';
    this.socketPath = socketPath;
    this.hint = hint;
  }
}

/** The socket exists but this user may not connect to it. */
export class DaemonAccessError extends Error {
  readonly socketPath: string;
  constructor(socketPath: string) {
    super(
      `permission denied connecting to ${socketPath}: the daemon there belongs to another user`,
    );
    this.name = 'DaemonAccessError';
    this.socketPath = socketPath;
  }
}

/** The daemon answered a request with an error; `code` is the protocol's error code. */
export class SessionsRequestError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'SessionsRequestError';
    this.code = code;
  }
}

/** The connection ended (or broke) before the daemon answered. */
export class ConnectionClosedError extends Error {
  constructor(message = 'the daemon closed the connection') {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}
