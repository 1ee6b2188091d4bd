/**
 * The messages the sessions daemon and its clients exchange, one per frame (see frames.ts and
 * docs/protocol.md). Every type here is what travels on the wire: plain MessagePack-able data,
 * binary payloads as `Uint8Array`, times as milliseconds since the epoch.
 *
 * A connection starts with a `hello` request carrying `PROTOCOL_VERSION`; the daemon answers
 * with its own version or refuses a major it does not speak, then closes. After that the client
 * sends requests, each with a numeric `id` unique among its outstanding requests, and the daemon
 * answers each with a response carrying the same `id`, in any order (a `stop` with `wait` answers
 * late without holding up the others). A successful `attach` turns the connection into a stream
 * for the rest of its life: the daemon sends `StreamEvent`s, the client sends `StreamCommand`s.
 *
 * `parse.ts` checks an incoming value's shape and throws `ProtocolError` with one clear message;
 * the daemon trusts nothing else.
 */
import type { ExitInfo, ExitOutcome } from '../../proc/index.js';
import type { WireFlowPublication } from './flow-publication.js';

/**
 * The protocol version this build speaks. Bumped when a message changes incompatibly: version 2
 * carries a session's end as `exitInfo` (sluice's one `ExitInfo`) and `exitedAt`, where version 1
 * had `exitState`.
 */
export const PROTOCOL_VERSION = 2;

/** Which output stream of a session. PTY sessions have only `stdout`. */
export type StreamName = 'stdout' | 'stderr';

/** How a session ended: sluice's one `ExitOutcome` (`natural`, `eof`, `soft`, `hard`). */
export type Outcome = ExitOutcome;

/** A session's end, as sent on the wire: sluice's one `ExitInfo`. */
export type WireExitInfo = ExitInfo;

/**
 * @deprecated Protocol version 1's exit record; version 2 sends `exitInfo` and `exitedAt`
 * side by side.
 */
export interface WireExitState extends ExitInfo {
  /** Milliseconds since the epoch. */
  exitedAt: number;
}

/** One session as `list`, `get` and `spawn` describe it (the library's `SessionInfo`). */
export interface WireSessionInfo {
  id: string;
  pid: number;
  kind: 'pipe' | 'pty';
  /** The command line, for display (argv joined with shell-style quoting where needed). */
  command: string;
  argv: string[];
  cwd: string;
  originator: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  state: 'running' | 'exited';
  /** How it ended; null while it runs. */
  exitInfo: WireExitInfo | null;
  /** When the exit was recorded, in ms since the epoch; null while it runs. */
  exitedAt: number | null;
  /** The output streams the session has (`stdout` only for a PTY or merged stderr). */
  streams: StreamName[];
  /** Per stream: a writer attached, read-only viewers, bytes written, bytes dropped from the ring. */
  attachments: Record<string, { writer: boolean; viewers: number; bytes: number; dropped: number }>;
  stdinClosed: boolean;
  /** A PTY's size; null for a pipe session. */
  size: { rows: number; cols: number } | null;
  /** How many times the restart policy started the program again (0 without one). */
  restarts: number;
  /** How the latest run ended (while restarting: the run before this one); null before. */
  lastExit: WireExitInfo | null;
}

/** The error codes a response or a stream `end` can carry. */
export type ErrorCode =
  /** The frame could not be decoded or was over 4 MiB; the daemon closes the connection. */
  | 'bad-frame'
  /** A well-framed message of the wrong shape, or a request before `hello`. */
  | 'protocol'
  /** The client's protocol version is not one the daemon speaks; the daemon closes. */
  | 'version'
  /** An argument is out of range or missing (empty argv, bad size, bad cwd, ...). */
  | 'invalid'
  /** No session has that id, nor an id that starts with that prefix. */
  | 'not-found'
  /** Several sessions' ids start with that prefix (the message lists them); give more characters. */
  | 'ambiguous'
  /** Another client is attached as the writer of that stream; retry with `steal`. */
  | 'already-attached'
  /** The operation needs a running session. */
  | 'exited'
  /** The operation needs a session that has exited (`remove` without `force`). */
  | 'running'
  /** The session's stdin was closed earlier. */
  | 'stdin-closed'
  /** The operation does not apply to this kind of session (resize of a pipe session, ...). */
  | 'unsupported'
  /** The child could not be started. */
  | 'spawn-failed'
  /** The daemon is shutting down and takes no new work. */
  | 'shutting-down'
  /** The daemon serves as many connections as it allows; the connection is closed. Retry later. */
  | 'busy'
  /** The peer runs as another user: the daemon serves only its own user; it closes. */
  | 'access'
  /** Anything else; the message says what. */
  | 'internal';

/** An error as carried in a response. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Requests (client → daemon)
// ---------------------------------------------------------------------------------------------

/** The first request on every connection. */
export interface HelloRequest {
  id: number;
  op: 'hello';
  version: number;
  /** Free text naming the client, for the daemon's log. */
  client?: string;
}
export interface PingRequest {
  id: number;
  op: 'ping';
}
export interface SpawnRequest {
  id: number;
  op: 'spawn';
  argv: string[];
  cwd?: string;
  /** Added to (and overriding) the daemon's own environment. */
  env?: Record<string, string>;
  originator?: string;
  mergeStderr?: boolean;
  /** Present for a PTY session. */
  pty?: { rows: number; cols: number };
  /** Restart the program when it exits on its own (the supervisor's policy; docs/screens.md). */
  restart?: WireRestartPolicy;
}
/** The restart policy a spawn may carry: the supervisor's `RestartPolicy`, in milliseconds. */
export interface WireRestartPolicy {
  when?: 'always' | 'on-failure';
  maxRestarts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  minUptimeMs?: number;
}
export interface ListRequest {
  id: number;
  op: 'list';
  originator?: string;
}
export interface GetRequest {
  id: number;
  op: 'get';
  session: string;
}
export interface LogsRequest {
  id: number;
  op: 'logs';
  session: string;
  stream?: StreamName;
  /**
   * For a PTY session with a screen: the screen and its scrollback as plain text (no escape
   * sequences) instead of the raw ring. Ignored otherwise (the answer's `text` says which).
   */
  text?: boolean;
}
export interface SendRequest {
  id: number;
  op: 'send';
  session: string;
  data?: Uint8Array;
  /** Close the session's stdin after writing `data`. */
  eof?: boolean;
}
export interface ResizeRequest {
  id: number;
  op: 'resize';
  session: string;
  rows: number;
  cols: number;
}
export interface StopRequest {
  id: number;
  op: 'stop';
  session: string;
  /** SIGTERM to the group, then SIGKILL after this long. Default 5000. 0 kills at once. */
  graceMs?: number;
  /** Answer only once the session has exited, with its exit state. Default false. */
  wait?: boolean;
}
export interface RemoveRequest {
  id: number;
  op: 'remove';
  session: string;
  /** Stop a running session (hard, at once) and then remove it. Default false. */
  force?: boolean;
}
export interface PurgeRequest {
  id: number;
  op: 'purge';
  originator?: string;
}
export interface AttachRequest {
  id: number;
  op: 'attach';
  session: string;
  stream?: StreamName;
  /** Take the writer's place from another client, which receives `end` with reason `stolen`. */
  steal?: boolean;
  /** Watch beside the writer: no input, no resize, never steals nor is stolen from. */
  readOnly?: boolean;
  /** For PTY sessions: the client's terminal size, applied before the backlog is sent. */
  rows?: number;
  cols?: number;
  /**
   * Replay the backlog from this absolute stream offset (a previous attachment's `position`), so
   * a re-attach gets exactly what it has not seen. Default: the oldest byte the ring keeps.
   */
  fromOffset?: number;
  /**
   * For a PTY session with a screen: replay the raw ring instead of drawing the screen. Without
   * it (and without `fromOffset`) the backlog begins with `screenBytes` of drawing.
   */
  raw?: boolean;
  /**
   * Never skip output for this client: while it is a full queue behind, the daemon stops
   * reading the session's program (which then blocks on its pipe or terminal) instead of
   * dropping and sending `missed`. The program, the ring and every other client then go at this
   * client's pace.
   */
  lossless?: boolean;
}
/** Asks the daemon to shut down as on SIGTERM. Answered before the sessions are stopped. */
export interface ShutdownRequest {
  id: number;
  op: 'shutdown';
}
/**
 * One sample of a published flow for the dashboard and `/metrics` (see flow-publication.ts).
 * Accepted whether or not the daemon serves a dashboard; the answer says whether it shows it.
 */
export interface PublishFlowRequest {
  id: number;
  op: 'publishFlow';
  flow: WireFlowPublication;
}
/** The publisher of `name` stopped: the dashboard greys the flow out at once. */
export interface UnpublishFlowRequest {
  id: number;
  op: 'unpublishFlow';
  name: string;
}
/** Asks for the dashboard's address (`sluice dashboard`). */
export interface DashboardRequest {
  id: number;
  op: 'dashboard';
}

export type Request =
  | HelloRequest
  | PingRequest
  | SpawnRequest
  | ListRequest
  | GetRequest
  | LogsRequest
  | SendRequest
  | ResizeRequest
  | StopRequest
  | RemoveRequest
  | PurgeRequest
  | AttachRequest
  | ShutdownRequest
  | PublishFlowRequest
  | UnpublishFlowRequest
  | DashboardRequest;

export type Op = Request['op'];

/** Distributes `Omit` over a union, so each request keeps its own fields. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request without its id, as a client builds it. */
export type RequestBody = DistributiveOmit<Request, 'id'>;

// ---------------------------------------------------------------------------------------------
// Results, by request
// ---------------------------------------------------------------------------------------------

export interface HelloResult {
  version: number;
  daemonPid: number;
  /** The sluice package version the daemon runs. */
  daemonVersion: string;
}
export interface PingResult {
  now: number;
}
export interface LogsResult {
  data: Uint8Array;
  /** Whether `data` is the screen rendered as text (a PTY session asked with `text`). */
  text?: boolean;
  /** Bytes dropped from the front of the ring since the session started. */
  missedBytes: number;
}
export interface SendResult {
  bytesWritten: number;
}
export interface StopResult {
  /** The session as it is when the answer leaves: with `wait`, exited. */
  session: WireSessionInfo;
}
export interface RemoveResult {
  removed: string;
}
export interface PurgeResult {
  removed: string[];
}
export interface AttachResult {
  session: WireSessionInfo;
  stream: StreamName;
  readOnly: boolean;
  /** Bytes dropped from the ring before the backlog begins. */
  missedBytes: number;
  /** Absolute stream offset of the backlog's first byte. */
  backlogOffset: number;
  /** The backlog follows as `data` events totalling exactly this many bytes, then live output. */
  backlogBytes: number;
  /**
   * How many of the backlog's first bytes draw the session's screen (a PTY session with a
   * screen): they are no stream bytes; the rest of the backlog is the stream from
   * `backlogOffset`, which is where the drawing was taken. 0 for a raw replay.
   */
  screenBytes?: number;
}

/** What each request answers with. */
export interface ResultMap {
  hello: HelloResult;
  ping: PingResult;
  spawn: WireSessionInfo;
  list: WireSessionInfo[];
  get: WireSessionInfo;
  logs: LogsResult;
  send: SendResult;
  resize: Record<string, never>;
  stop: StopResult;
  remove: RemoveResult;
  purge: PurgeResult;
  attach: AttachResult;
  shutdown: Record<string, never>;
  publishFlow: PublishFlowResult;
  unpublishFlow: Record<string, never>;
  dashboard: DashboardResult;
}

export interface PublishFlowResult {
  /** Whether the daemon serves a dashboard that shows the flow (it runs with `--http`). */
  shown: boolean;
}
/** The dashboard's address; every field null when the daemon runs without `--http`. */
export interface DashboardResult {
  /** The address to open, token included: `http://127.0.0.1:PORT/#token=TOKEN`. */
  url: string | null;
  /** The address without the token. */
  origin: string | null;
  /** The access token (for `Authorization: Bearer` on `/metrics`). */
  token: string | null;
}

export interface OkResponse<R = unknown> {
  id: number;
  ok: true;
  result: R;
}
export interface ErrorResponse {
  /** The request's id, or 0 when the failing frame had none. */
  id: number;
  ok: false;
  error: WireError;
}
export type Response = OkResponse | ErrorResponse;

// ---------------------------------------------------------------------------------------------
// Attach streams
// ---------------------------------------------------------------------------------------------

/** Why an attach stream ended. */
export type EndReason =
  /** The session exited and every byte it wrote was sent. */
  | 'exited'
  /** Another client attached with `steal`. */
  | 'stolen'
  /** The client asked to detach. */
  | 'detached'
  /** The session was removed. */
  | 'removed'
  /** The daemon is shutting down. */
  | 'shutdown'
  /** The client sent something the stream does not accept. */
  | 'error';

/** Daemon → client on an attach stream. */
export type StreamEvent =
  /** Output; `offset` is the absolute stream offset of `data[0]`. */
  | { ev: 'data'; data: Uint8Array; offset: number }
  /** This client fell behind: `bytes` of output were skipped; delivery resumes at `offset`. */
  | { ev: 'missed'; bytes: number; offset: number }
  /** The stream reached its end (the child closed it); `exit` normally follows. */
  | { ev: 'eof'; offset: number }
  /** The session exited; the last event before `end`. */
  | { ev: 'exit'; exitInfo: WireExitInfo; exitedAt: number }
  | { ev: 'end'; reason: EndReason; message?: string };

/** Client → daemon on an attach stream. Read-only attachments may only send `detach`. */
export type StreamCommand =
  | { op: 'input'; data: Uint8Array }
  /** Close the session's stdin (pipe sessions; on a PTY it sends ^D). */
  | { op: 'eof' }
  | { op: 'resize'; rows: number; cols: number }
  | { op: 'detach' };
