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
  /** The daemon-assigned session id, unique for the daemon's lifetime; requests also accept a prefix of it of at least 4 characters that matches no other session. */
  id: string;
  /** The process id of the program (the process group leader); after it exits, the last one it had. */
  pid: number;
  /** `pty` for a session on a pseudo-terminal, `pipe` for one on plain pipes. */
  kind: 'pipe' | 'pty';
  /** The command line, for display (argv joined with shell-style quoting where needed). */
  command: string;
  /** The program and its arguments as spawned (first element the program). */
  argv: string[];
  /** The absolute working directory the program was started in. */
  cwd: string;
  /** Free text naming who started the session (the spawn request's `originator`; empty when none was given); `list` and `purge` filter on it. */
  originator: string;
  /** When the session was created, in milliseconds since the epoch. */
  createdAt: number;
  /** `running` until the program (and, with a restart policy, its last restart) has exited. */
  state: 'running' | 'exited';
  /** How it ended; null while it runs. */
  exitInfo: WireExitInfo | null;
  /** When the exit was recorded, in ms since the epoch; null while it runs. */
  exitedAt: number | null;
  /** The output streams the session has (`stdout` only for a PTY or merged stderr). */
  streams: StreamName[];
  /** Per stream: a writer attached, read-only viewers, bytes written, bytes dropped from the ring. */
  attachments: Record<
    string,
    {
      /** Whether a client is attached as this stream's writer (the one that may send input). */
      writer: boolean;
      /** How many read-only clients watch this stream. */
      viewers: number;
      /** Total bytes the program has written to this stream since the session started. */
      bytes: number;
      /** Bytes dropped from the front of the ring to honour its size limit. */
      dropped: number;
    }
  >;
  /** Whether the session's stdin has been closed (by a `send` with `eof` or an `eof` stream command). */
  stdinClosed: boolean;
  /** A PTY's size; null for a pipe session. */
  size: {
    /** Height in character cells. */
    rows: number;
    /** Width in character cells. */
    cols: number;
  } | null;
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
  /** Stable machine-readable kind of failure; branch on this, not on `message`. */
  code: ErrorCode;
  /** One human-readable sentence saying what went wrong; not stable across versions. */
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Requests (client → daemon)
// ---------------------------------------------------------------------------------------------

/** The first request on every connection. */
export interface HelloRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'hello';
  /** The client's `PROTOCOL_VERSION`; the daemon refuses a major it does not speak. */
  version: number;
  /** Free text naming the client, for the daemon's log. */
  client?: string;
}
/** Asks the daemon for its clock; a cheap liveness check. */
export interface PingRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'ping';
}
/** Starts a new session running `argv`; answered with the new session's `WireSessionInfo`. */
export interface SpawnRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'spawn';
  /** The program and its arguments (first element the program); must not be empty. */
  argv: string[];
  /** The working directory; must exist. Default: the daemon's working directory. */
  cwd?: string;
  /** Added to (and overriding) the daemon's own environment. */
  env?: Record<string, string>;
  /** Free text naming who started the session, shown by `list` and used by `purge`. */
  originator?: string;
  /** Send the program's stderr into its stdout stream (pipe sessions). Default false. */
  mergeStderr?: boolean;
  /** Present for a PTY session. */
  pty?: {
    /** Height in character cells; a positive integer. */
    rows: number;
    /** Width in character cells; a positive integer. */
    cols: number;
  };
  /** Restart the program when it exits on its own (the supervisor's policy; docs/screens.md). */
  restart?: WireRestartPolicy;
}
/** The restart policy a spawn may carry: the supervisor's `RestartPolicy`, in milliseconds. */
export interface WireRestartPolicy {
  /** Restart after every exit, or only after a failing one (non-zero code or a signal). Default `always`. */
  when?: 'always' | 'on-failure';
  /** Give up after this many restarts without a healthy run; the session then stays exited. Default 10. */
  maxRestarts?: number;
  /** Wait before the first restart, in milliseconds; doubles with each further one. Default 100. */
  backoffMs?: number;
  /** Upper bound of the doubling wait, in milliseconds. Default 30000. */
  maxBackoffMs?: number;
  /** A run that lasted at least this many milliseconds resets the backoff and the count. Default 1000. */
  minUptimeMs?: number;
}
/** Lists the daemon's sessions, running and exited. */
export interface ListRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'list';
  /** Only sessions started with this originator. Default: all. */
  originator?: string;
}
/** Describes one session. */
export interface GetRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'get';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
}
/** Reads what the session's ring buffer still holds, without attaching. */
export interface LogsRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'logs';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
  /** Which output stream. Default `stdout`. */
  stream?: StreamName;
  /**
   * For a PTY session with a screen: the screen and its scrollback as plain text (no escape
   * sequences) instead of the raw ring. Ignored otherwise (the answer's `text` says which).
   */
  text?: boolean;
}
/** Writes to the session's stdin without attaching. */
export interface SendRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'send';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
  /** The bytes to write. Default: none (useful with `eof`). */
  data?: Uint8Array;
  /** Close the session's stdin after writing `data`. */
  eof?: boolean;
}
/** Changes a PTY session's terminal size (the program gets SIGWINCH). */
export interface ResizeRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'resize';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
  /** New height in character cells; a positive integer. */
  rows: number;
  /** New width in character cells; a positive integer. */
  cols: number;
}
/** Stops a session: the soft signal to its process group, then SIGKILL after `graceMs`. */
export interface StopRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'stop';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
  /** SIGTERM to the group, then SIGKILL after this long. Default 5000. 0 kills at once. */
  graceMs?: number;
  /** Answer only once the session has exited, with its exit state. Default false. */
  wait?: boolean;
}
/** Forgets an exited session and its buffered output. */
export interface RemoveRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'remove';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
  /** Stop a running session (hard, at once) and then remove it. Default false. */
  force?: boolean;
}
/** Removes every exited session. */
export interface PurgeRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'purge';
  /** Only sessions started with this originator. Default: all exited sessions. */
  originator?: string;
}
/** Turns the connection into a stream of one session's output (and, for the writer, its input). */
export interface AttachRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'attach';
  /** The session's id, or a prefix of it (at least 4 characters) that matches one session only. */
  session: string;
  /** Which output stream. Default `stdout`. */
  stream?: StreamName;
  /** Take the writer's place from another client, which receives `end` with reason `stolen`. */
  steal?: boolean;
  /** Watch beside the writer: no input, no resize, never steals nor is stolen from. */
  readOnly?: boolean;
  /** For PTY sessions: the client's terminal height in cells, applied before the backlog is sent. */
  rows?: number;
  /** For PTY sessions: the client's terminal width in cells, applied with `rows`. */
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
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'shutdown';
}
/**
 * One sample of a published flow for the dashboard and `/metrics` (see flow-publication.ts).
 * Accepted whether or not the daemon serves a dashboard; the answer says whether it shows it.
 */
export interface PublishFlowRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'publishFlow';
  /** The flow's latest sample; replaces the previous one published under the same name. */
  flow: WireFlowPublication;
}
/** The publisher of `name` stopped: the dashboard greys the flow out at once. */
export interface UnpublishFlowRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'unpublishFlow';
  /** The name the flow was published under. */
  name: string;
}
/** Asks for the dashboard's address (`sluice dashboard`). */
export interface DashboardRequest {
  /** Chosen by the client, unique among its outstanding requests; the response carries it back. */
  id: number;
  /** Selects the operation; fixes the shape of the rest of the request. */
  op: 'dashboard';
}

/** Every request a client may send, discriminated by `op`. */
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

/** The name of an operation (a request's `op`). */
export type Op = Request['op'];

/** Distributes `Omit` over a union, so each request keeps its own fields. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request without its id, as a client builds it. */
export type RequestBody = DistributiveOmit<Request, 'id'>;

// ---------------------------------------------------------------------------------------------
// Results, by request
// ---------------------------------------------------------------------------------------------

/** The daemon's answer to `hello`. */
export interface HelloResult {
  /** The protocol version the daemon speaks. */
  version: number;
  /** The daemon's process id. */
  daemonPid: number;
  /** The sluice package version the daemon runs. */
  daemonVersion: string;
}
/** The daemon's answer to `ping`. */
export interface PingResult {
  /** The daemon's clock, in milliseconds since the epoch. */
  now: number;
}
/** The daemon's answer to `logs`. */
export interface LogsResult {
  /** The bytes the ring holds (or the screen as text, see `text`); empty when nothing was written. */
  data: Uint8Array;
  /** Whether `data` is the screen rendered as text (a PTY session asked with `text`). */
  text?: boolean;
  /** Bytes dropped from the front of the ring since the session started. */
  missedBytes: number;
}
/** The daemon's answer to `send`. */
export interface SendResult {
  /** How many bytes of `data` were written to stdin (all of them on success). */
  bytesWritten: number;
}
/** The daemon's answer to `stop`. */
export interface StopResult {
  /** The session as it is when the answer leaves: with `wait`, exited. */
  session: WireSessionInfo;
}
/** The daemon's answer to `remove`. */
export interface RemoveResult {
  /** The full id of the session removed. */
  removed: string;
}
/** The daemon's answer to `purge`. */
export interface PurgeResult {
  /** The full ids of the sessions removed; empty when none had exited. */
  removed: string[];
}
/** The daemon's answer to `attach`; stream events follow on the same connection. */
export interface AttachResult {
  /** The session as it is when the attachment begins. */
  session: WireSessionInfo;
  /** The stream attached to. */
  stream: StreamName;
  /** Whether this client attached as a read-only viewer (the request's `readOnly`). */
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
  /** The daemon's versions and pid. */
  hello: HelloResult;
  /** The daemon's clock. */
  ping: PingResult;
  /** The session just started. */
  spawn: WireSessionInfo;
  /** Every session matching the filter, oldest first. */
  list: WireSessionInfo[];
  /** The session asked for. */
  get: WireSessionInfo;
  /** The buffered output. */
  logs: LogsResult;
  /** How much was written. */
  send: SendResult;
  /** Nothing: success means the size was applied. */
  resize: Record<string, never>;
  /** The session after the stop (exited when `wait` was set). */
  stop: StopResult;
  /** The id removed. */
  remove: RemoveResult;
  /** The ids removed. */
  purge: PurgeResult;
  /** What the stream will replay; stream events follow. */
  attach: AttachResult;
  /** Nothing: sent before the daemon stops its sessions and exits. */
  shutdown: Record<string, never>;
  /** Whether a dashboard shows the flow. */
  publishFlow: PublishFlowResult;
  /** Nothing: the flow is marked stopped. */
  unpublishFlow: Record<string, never>;
  /** The dashboard's address. */
  dashboard: DashboardResult;
}

/** The daemon's answer to `publishFlow`. */
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

/** A successful answer to a request. */
export interface OkResponse<R = unknown> {
  /** The id of the request answered. */
  id: number;
  /** Always true: tells a success from an `ErrorResponse`. */
  ok: true;
  /** The operation's result, as `ResultMap` gives it for the request's `op`. */
  result: R;
}
/** A failed answer to a request (or to an unreadable frame). */
export interface ErrorResponse {
  /** The request's id, or 0 when the failing frame had none. */
  id: number;
  /** Always false: tells a failure from an `OkResponse`. */
  ok: false;
  /** What went wrong. */
  error: WireError;
}
/** Any answer from the daemon, told apart by `ok`. */
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
  | {
      /** The event's kind. */
      ev: 'data';
      /** The bytes, exactly as the program wrote them. */
      data: Uint8Array;
      /** Absolute stream offset of `data[0]`. */
      offset: number;
    }
  /** This client fell behind: `bytes` of output were skipped; delivery resumes at `offset`. */
  | {
      /** The event's kind. */
      ev: 'missed';
      /** How many bytes this client did not receive. */
      bytes: number;
      /** Absolute stream offset where delivery resumes. */
      offset: number;
    }
  /** The stream reached its end (the child closed it); `exit` normally follows. */
  | {
      /** The event's kind. */
      ev: 'eof';
      /** Absolute stream offset of the end: the stream's total length. */
      offset: number;
    }
  /** The session exited; the last event before `end`. */
  | {
      /** The event's kind. */
      ev: 'exit';
      /** How the session's process ended. */
      exitInfo: WireExitInfo;
      /** When the exit was seen, in ms since the epoch. */
      exitedAt: number;
    }
  /** The stream is over; the daemon closes the connection after it. `message` explains an `error`. */
  | {
      /** The event's kind. */
      ev: 'end';
      /** Why the stream ended. */
      reason: EndReason;
      /** For `reason: 'error'`: what went wrong, in one line. */
      message?: string;
    };

/** Client → daemon on an attach stream. Read-only attachments may only send `detach`. */
export type StreamCommand =
  /** Bytes for the session's stdin (or terminal); writers only. */
  | {
      /** The command's kind. */
      op: 'input';
      /** The bytes to write, as they are. */
      data: Uint8Array;
    }
  /** Close the session's stdin (pipe sessions; on a PTY it sends ^D). */
  | {
      /** The command's kind. */
      op: 'eof';
    }
  /** Change a PTY session's size; writers only. */
  | {
      /** The command's kind. */
      op: 'resize';
      /** New height in character cells. */
      rows: number;
      /** New width in character cells. */
      cols: number;
    }
  /** End this attachment; the daemon answers with `end` reason `detached`. */
  | {
      /** The command's kind. */
      op: 'detach';
    };
