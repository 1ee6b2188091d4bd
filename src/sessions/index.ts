/**
 * sluice/sessions: process sessions (pipes or a PTY) with ring-buffer backlogs that clients
 * attach to, detach from and re-attach to by offset. See docs/sessions.md.
 *
 * The library: `SessionRegistry`, `Session` (`PipeSession`, `PtySession`), `Attachment`,
 * `RingBuffer`, the typed errors. The daemon, its protocol and the client build on it.
 */

export { SpawnError, type SpawnErrorCode } from '../supervisor/index.js';
// The daemon, its wire protocol and its client (docs/protocol.md, docs/sessions.md).
export {
  type AttachEnd,
  type AttachEvent,
  ClientAttachment,
} from './client/attachment.js';
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
  Attachment,
  type AttachmentFrame,
  type AttachmentHost,
  type AttachOptions,
  DEFAULT_ATTACH_QUEUE_BYTES,
  MAX_OUTPUT_FRAME_BYTES,
} from './core/attachment.js';
export {
  AlreadyAttachedError,
  AttachmentClosedError,
  InvalidArgumentError,
  NotAPtyError,
  ReadOnlyAttachmentError,
  RegistryClosedError,
  SessionError,
  SessionExitedError,
  SessionNotFoundError,
  SessionRunningError,
  StdinClosedError,
  StreamUnavailableError,
} from './core/errors.js';
export { isSessionId, newSessionId } from './core/ids.js';
export type { Snapshot } from './core/output-stream.js';
export { PipeSession } from './core/pipe-session.js';
export { PtySession } from './core/pty-session.js';
export {
  type RemoveOptions,
  SessionRegistry,
  type SessionRegistryOptions,
} from './core/registry.js';
export { DEFAULT_RING_BYTES, RingBuffer, type RingRead } from './core/ring-buffer.js';
export {
  DEFAULT_GRACE_MS,
  Session,
  type SessionEvents,
  type TerminateOptions,
  type WriteStdinOptions,
} from './core/session.js';
export type {
  ExitOutcome,
  ExitState,
  PtySize,
  SessionInfo,
  SessionKind,
  SpawnSessionOptions,
  StreamName,
} from './core/types.js';
export { type DaemonOptions, SessionDaemon } from './daemon/server.js';
export { SocketPathError } from './daemon/socket-claim.js';
export { Spooler, type SpoolOptions } from './daemon/spool.js';
export {
  encodeFrame,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  MAX_FRAME_BYTES,
} from './wire/frames.js';
export {
  type EndReason,
  type ErrorCode,
  PROTOCOL_VERSION,
  ProtocolError,
  type Request,
  type ResultMap,
  type StreamCommand,
  type StreamEvent,
  type WireExitState,
  type WireSessionInfo,
} from './wire/protocol.js';
export { defaultSocketPath } from './wire/socket-path.js';
