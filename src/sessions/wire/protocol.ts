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
 * `parseRequest` and `parseStreamCommand` check an incoming value's shape and throw
 * `ProtocolError` with one clear message; the daemon trusts nothing else.
 */

/** The protocol version this build speaks. Bumped when a message changes incompatibly. */
export const PROTOCOL_VERSION = 1;

/** Which output stream of a session. PTY sessions have only `stdout`. */
export type StreamName = 'stdout' | 'stderr';

/** How a session ended: on its own, within the grace after the soft signal, or by SIGKILL. */
export type Outcome = 'natural' | 'soft' | 'hard';

/** A session's end, as sent on the wire. */
export interface WireExitState {
  exitCode: number | null;
  signal: string | null;
  /** Milliseconds since the epoch. */
  exitedAt: number;
  outcome: Outcome;
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
  /** Present once the session has exited. */
  exitState: WireExitState | null;
  /** The output streams the session has (`stdout` only for a PTY or merged stderr). */
  streams: StreamName[];
  /** Per stream: a writer attached, read-only viewers, bytes written, bytes dropped from the ring. */
  attachments: Record<string, { writer: boolean; viewers: number; bytes: number; dropped: number }>;
  stdinClosed: boolean;
  /** A PTY's size; null for a pipe session. */
  size: { rows: number; cols: number } | null;
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
  /** No session has that id, nor that unique id prefix. */
  | 'not-found'
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
  /** SIGTERM to the group, then SIGKILL after this long. Default 2000. 0 kills at once. */
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
}
/** Asks the daemon to shut down as on SIGTERM. Answered before the sessions are stopped. */
export interface ShutdownRequest {
  id: number;
  op: 'shutdown';
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
  | ShutdownRequest;

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
  | { ev: 'exit'; exitState: WireExitState }
  | { ev: 'end'; reason: EndReason; message?: string };

/** Client → daemon on an attach stream. Read-only attachments may only send `detach`. */
export type StreamCommand =
  | { op: 'input'; data: Uint8Array }
  /** Close the session's stdin (pipe sessions; on a PTY it sends ^D). */
  | { op: 'eof' }
  | { op: 'resize'; rows: number; cols: number }
  | { op: 'detach' };

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** A message of the wrong shape. `id` is the request's id when it had a usable one. */
export class ProtocolError extends Error {
  readonly id: number;
  readonly code: ErrorCode;
  constructor(message: string, id = 0, code: ErrorCode = 'protocol') {
    super(message);
    this.name = 'ProtocolError';
    this.id = id;
    this.code = code;
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

class Fields {
  constructor(
    readonly o: Obj,
    readonly id: number,
    readonly where: string,
  ) {}
  fail(message: string, code: ErrorCode = 'protocol'): never {
    throw new ProtocolError(`${this.where}: ${message}`, this.id, code);
  }
  str(k: string): string {
    const v = this.o[k];
    if (typeof v !== 'string') this.fail(`'${k}' must be a string`);
    return v;
  }
  optStr(k: string): string | undefined {
    return this.o[k] === undefined || this.o[k] === null ? undefined : this.str(k);
  }
  optBool(k: string): boolean | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(`'${k}' must be a boolean`);
    return v;
  }
  int(k: string, min: number, max: number): number {
    const v = this.o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`'${k}' must be an integer from ${min} to ${max}`, 'invalid');
    }
    return v;
  }
  optInt(k: string, min: number, max: number): number | undefined {
    return this.o[k] === undefined || this.o[k] === null ? undefined : this.int(k, min, max);
  }
  optBytes(k: string): Uint8Array | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return Buffer.from(v, 'utf8');
    this.fail(`'${k}' must be binary or a string`);
  }
  optStream(k: string): StreamName | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (v !== 'stdout' && v !== 'stderr') this.fail(`'${k}' must be 'stdout' or 'stderr'`);
    return v;
  }
}

const MAX_ROWS_COLS = 65535;
const MAX_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * Checks that `value` is a well-formed request and returns it typed. Throws `ProtocolError`
 * (with the request's id when it had one) naming the first thing wrong. Unknown extra fields are
 * ignored, so newer clients can add optional fields.
 */
export function parseRequest(value: unknown): Request {
  if (!isObj(value)) throw new ProtocolError('a request must be a map');
  const rawId = value.id;
  if (typeof rawId !== 'number' || !Number.isSafeInteger(rawId) || rawId < 1) {
    throw new ProtocolError("a request needs a positive integer 'id'");
  }
  const id = rawId;
  const op = value.op;
  if (typeof op !== 'string') throw new ProtocolError("a request needs a string 'op'", id);
  const f: Fields = new Fields(value, id, op);
  switch (op) {
    case 'hello':
      return { id, op, version: f.int('version', 0, 2 ** 31), client: f.optStr('client') };
    case 'ping':
    case 'shutdown':
      return { id, op };
    case 'spawn': {
      const argv = value.argv;
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
        f.fail("'argv' must be an array of strings");
      }
      if (argv.length === 0) f.fail("'argv' must not be empty", 'invalid');
      let env: Record<string, string> | undefined;
      if (value.env !== undefined && value.env !== null) {
        if (!isObj(value.env)) f.fail("'env' must be a map of strings");
        env = {};
        for (const [k, v] of Object.entries(value.env)) {
          if (typeof v !== 'string') f.fail(`env '${k}' must be a string`);
          env[k] = v;
        }
      }
      let pty: { rows: number; cols: number } | undefined;
      if (value.pty !== undefined && value.pty !== null) {
        if (!isObj(value.pty)) f.fail("'pty' must be a map with rows and cols");
        const p = new Fields(value.pty, id, 'spawn pty');
        pty = { rows: p.int('rows', 1, MAX_ROWS_COLS), cols: p.int('cols', 1, MAX_ROWS_COLS) };
      }
      return {
        id,
        op,
        argv: argv as string[],
        cwd: f.optStr('cwd'),
        env,
        originator: f.optStr('originator'),
        mergeStderr: f.optBool('mergeStderr'),
        pty,
      };
    }
    case 'list':
    case 'purge':
      return { id, op, originator: f.optStr('originator') };
    case 'get':
      return { id, op, session: f.str('session') };
    case 'logs':
      return { id, op, session: f.str('session'), stream: f.optStream('stream') };
    case 'send':
      return {
        id,
        op,
        session: f.str('session'),
        data: f.optBytes('data'),
        eof: f.optBool('eof'),
      };
    case 'resize':
      return {
        id,
        op,
        session: f.str('session'),
        rows: f.int('rows', 1, MAX_ROWS_COLS),
        cols: f.int('cols', 1, MAX_ROWS_COLS),
      };
    case 'stop':
      return {
        id,
        op,
        session: f.str('session'),
        graceMs: f.optInt('graceMs', 0, MAX_GRACE_MS),
        wait: f.optBool('wait'),
      };
    case 'remove':
      return { id, op, session: f.str('session'), force: f.optBool('force') };
    case 'attach':
      return {
        id,
        op,
        session: f.str('session'),
        stream: f.optStream('stream'),
        steal: f.optBool('steal'),
        readOnly: f.optBool('readOnly'),
        rows: f.optInt('rows', 1, MAX_ROWS_COLS),
        cols: f.optInt('cols', 1, MAX_ROWS_COLS),
        fromOffset: f.optInt('fromOffset', 0, Number.MAX_SAFE_INTEGER),
      };
    default:
      throw new ProtocolError(`unknown op '${op}'`, id);
  }
}

/** Checks one client → daemon message on an attach stream. Throws `ProtocolError`. */
export function parseStreamCommand(value: unknown): StreamCommand {
  if (!isObj(value)) throw new ProtocolError('a stream command must be a map');
  const op = value.op;
  const f: Fields = new Fields(value, 0, `stream ${String(op)}`);
  switch (op) {
    case 'input': {
      const data = f.optBytes('data');
      if (!data) f.fail("'data' is required");
      return { op, data };
    }
    case 'eof':
    case 'detach':
      return { op };
    case 'resize':
      return { op, rows: f.int('rows', 1, MAX_ROWS_COLS), cols: f.int('cols', 1, MAX_ROWS_COLS) };
    default:
      throw new ProtocolError(`unknown stream command '${String(op)}'`);
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Checks one daemon → client message on an attach stream. Throws `ProtocolError`. */
export function parseStreamEvent(value: unknown): StreamEvent {
  if (!isObj(value)) throw new ProtocolError('a stream event must be a map');
  switch (value.ev) {
    case 'data':
      if (!(value.data instanceof Uint8Array)) throw new ProtocolError("data event without 'data'");
      return { ev: 'data', data: value.data, offset: num(value.offset) };
    case 'missed':
      if (typeof value.bytes !== 'number') throw new ProtocolError("missed event without 'bytes'");
      return { ev: 'missed', bytes: value.bytes, offset: num(value.offset) };
    case 'eof':
      return { ev: 'eof', offset: num(value.offset) };
    case 'exit':
      if (!isObj(value.exitState)) throw new ProtocolError("exit event without 'exitState'");
      return { ev: 'exit', exitState: value.exitState as unknown as WireExitState };
    case 'end':
      if (typeof value.reason !== 'string') throw new ProtocolError("end event without 'reason'");
      return {
        ev: 'end',
        reason: value.reason as EndReason,
        message: typeof value.message === 'string' ? value.message : undefined,
      };
    default:
      throw new ProtocolError(`unknown stream event '${String(value.ev)}'`);
  }
}

/** Checks a daemon → client response frame. Throws `ProtocolError`. */
export function parseResponse(value: unknown): Response {
  if (!isObj(value) || typeof value.id !== 'number' || typeof value.ok !== 'boolean') {
    throw new ProtocolError('a response must be a map with a numeric id and ok');
  }
  if (value.ok) return { id: value.id, ok: true, result: value.result };
  const e = value.error;
  if (!isObj(e) || typeof e.code !== 'string' || typeof e.message !== 'string') {
    throw new ProtocolError('an error response needs error.code and error.message');
  }
  return { id: value.id, ok: false, error: { code: e.code as ErrorCode, message: e.message } };
}
