/**
 * sluice/sessions: process sessions (pipes or a PTY) with ring-buffer backlogs that clients
 * attach to, detach from and re-attach to by offset. See docs/sessions.md.
 *
 * The library: `SessionRegistry`, `Session` (`PipeSession`, `PtySession`), `Attachment`,
 * `RingBuffer`, the typed errors. The daemon, its protocol and the client build on it.
 */

export { SpawnError, type SpawnErrorCode } from '../supervisor/index.js';
export {
  Attachment,
  type AttachmentFrame,
  type AttachmentHost,
  type AttachOptions,
  DEFAULT_ATTACH_QUEUE_BYTES,
  MAX_OUTPUT_FRAME_BYTES,
} from './attachment.js';
export {
  type ClientAttachOptions,
  type ClientSpawnOptions,
  type ConnectOptions,
  isRequestError,
  SessionsClient,
} from './client.js';
// The daemon, its wire protocol and its client (docs/protocol.md, docs/sessions.md).
export {
  type AttachEnd,
  type AttachEvent,
  ClientAttachment,
} from './client-attachment.js';
export {
  ConnectionClosedError,
  DaemonAccessError,
  DaemonNotRunningError,
  SessionsRequestError,
} from './client-errors.js';
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
} from './errors.js';
export {
  encodeFrame,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  MAX_FRAME_BYTES,
} from './frames.js';
export { isSessionId, newSessionId } from './ids.js';
export type { Snapshot } from './output-stream.js';
export { PipeSession } from './pipe-session.js';
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
} from './protocol.js';
export { PtySession } from './pty-session.js';
export { type RemoveOptions, SessionRegistry, type SessionRegistryOptions } from './registry.js';
export { DEFAULT_RING_BYTES, RingBuffer, type RingRead } from './ring-buffer.js';
export { type DaemonOptions, SessionDaemon } from './server.js';
export {
  DEFAULT_GRACE_MS,
  Session,
  type SessionEvents,
  type TerminateOptions,
  type WriteStdinOptions,
} from './session.js';
export { defaultSocketPath, SocketPathError } from './socket-path.js';
export { Spooler, type SpoolOptions } from './spool.js';
export type {
  ExitOutcome,
  ExitState,
  PtySize,
  SessionInfo,
  SessionKind,
  SpawnSessionOptions,
  StreamName,
} from './types.js';
