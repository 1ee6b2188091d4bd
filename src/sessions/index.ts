/**
 * sluice/sessions: process sessions (pipes or a PTY) with ring-buffer backlogs that clients
 * attach to, detach from and re-attach to by offset; a daemon that owns them behind a Unix
 * socket; and its client, which speaks the library's verbs. See docs/sessions.md,
 * docs/protocol.md and docs/security.md.
 *
 * The library: `SessionRegistry`, `Session`, `Attachment`, `RingBuffer`, the typed errors.
 * The daemon: `SessionDaemon`. The client: `SessionsClient`, `ClientAttachment`.
 */

export {
  DEFAULT_GRACE_MS,
  type ExitInfo,
  type ExitOutcome,
  InvalidOptionError,
  SluiceError,
  SpawnError,
  type SpawnErrorCode,
} from '../proc/index.js';
export { type AttachEnd, type AttachEvent, ClientAttachment } from './client/attachment.js';
export {
  type ClientAttachOptions,
  type ClientSpawnOptions,
  type ConnectOptions,
  isRequestError,
  SessionsClient,
} from './client/client.js';
export {
  ConnectionClosedError,
  DaemonAccessError,
  DaemonNotRunningError,
  SessionsRequestError,
} from './client/errors.js';
export {
  FlowPublisher,
  type PublishFlowOptions,
  type PublishTransport,
} from './client/flow-publisher.js';
export {
  Attachment,
  type AttachmentFrame,
  type AttachOptions,
  DEFAULT_ATTACH_QUEUE_BYTES,
} from './core/attachment.js';
export {
  AlreadyAttachedError,
  AmbiguousSessionIdError,
  AttachmentClosedError,
  InvalidArgumentError,
  NotAPtyError,
  ReadOnlyAttachmentError,
  RegistryClosedError,
  SessionError,
  SessionExitedError,
  SessionIdTooShortError,
  SessionNotFoundError,
  SessionRunningError,
  SessionsError,
  StdinClosedError,
  StreamUnavailableError,
} from './core/errors.js';
export type { Snapshot } from './core/output-stream.js';
export {
  MIN_ID_PREFIX_LENGTH,
  type RemoveOptions,
  SessionRegistry,
  type SessionRegistryOptions,
  type ShutdownOptions,
} from './core/registry.js';
export { DEFAULT_RING_BYTES, RingBuffer, type RingRead } from './core/ring-buffer.js';
export {
  Session,
  type SessionEvents,
  type TerminateOptions,
  type WriteStdinOptions,
} from './core/session.js';
export type {
  ExitState,
  PtySize,
  SessionInfo,
  SessionKind,
  SpawnSessionOptions,
  StreamName,
} from './core/types.js';
export { type DaemonOptions, SessionDaemon } from './daemon/server.js';
export { SocketPathError } from './daemon/socket-claim.js';
export type { SpoolOptions } from './daemon/spool.js';
// The dashboard's types only: its code (HTTP, WebSockets) loads when a daemon serves one.
export type { DashboardServer } from './dashboard/index.js';
// The screen of a PTY session (docs/screens.md).
export {
  AlternateScreenTracker,
  QueryFilter,
  type RestoreOptions,
  restoreTerminal,
  ScreenClosedError,
  type ScreenEvents,
  ScreenModel,
  type ScreenOptions,
  type ScreenSnapshot,
  type SnapshotOptions,
  stripQueries,
  TERMINAL_RESTORE,
  type TerminalSize,
  type TerminalState,
  terminalSize,
} from './screen/index.js';
export type { WireFlowPublication, WireStageSample } from './wire/flow-publication.js';
export { ProtocolError } from './wire/parse.js';
/**
 * Every message of the daemon's wire protocol (docs/protocol.md) as types: each request, each
 * result, and the maps between them, for programs that speak the protocol without
 * `SessionsClient` (`protocol.SpawnRequest`, `protocol.ResultMap['list']`, …).
 */
export type * as protocol from './wire/protocol.js';
export {
  type EndReason,
  type ErrorCode,
  type HelloResult,
  PROTOCOL_VERSION,
  type WireExitState,
  type WireRestartPolicy,
  type WireSessionInfo,
} from './wire/protocol.js';
export { defaultSocketPath } from './wire/socket-path.js';
