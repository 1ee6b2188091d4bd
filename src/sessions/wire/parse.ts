/**
 * Checks what comes off the wire: every message a peer sends is parsed here into the typed
 * messages of protocol.ts, or refused with a `ProtocolError` naming the first thing wrong and the
 * protocol error code to answer with. The daemon and the client trust nothing else.
 */
import { SessionsError } from '../core/errors.js';
import { parseFlowPublication } from './flow-publication.js';
import type {
  EndReason,
  ErrorCode,
  Request,
  Response,
  SpawnRequest,
  StreamCommand,
  StreamEvent,
  StreamName,
  WireExitInfo,
} from './protocol.js';

/**
 * A message of the wrong shape (`ERR_SLUICE_DAEMON_PROTOCOL`). `id` is the request's id when it
 * had a usable one; `wireCode` is the protocol error code to answer with (`protocol` for a wrong
 * shape, `invalid` for a value out of range).
 */
export class ProtocolError extends SessionsError {
  /** The offending request's id; 0 when it had no usable one. */
  readonly id: number;
  /**
   * The protocol error code a daemon answers with: `protocol` for a wrong shape, `invalid` for a
   * value out of range.
   */
  readonly wireCode: ErrorCode;
  constructor(message: string, id = 0, wireCode: ErrorCode = 'protocol') {
    super('ERR_SLUICE_DAEMON_PROTOCOL', message);
    this.id = id;
    this.wireCode = wireCode;
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
    case 'dashboard':
      return { id, op };
    case 'publishFlow':
      return {
        id,
        op,
        flow: parseFlowPublication(value.flow, (message) => {
          throw new ProtocolError(`publishFlow: ${message}`, id, 'invalid');
        }),
      };
    case 'unpublishFlow':
      return { id, op, name: f.str('name') };
    case 'spawn':
      return parseSpawn(f);
    case 'list':
    case 'purge':
      return { id, op, originator: f.optStr('originator') };
    default:
      return parseSessionRequest(f, op);
  }
}

/** The requests about one session (`session` names it), or `unknown op`. */
function parseSessionRequest(f: Fields, op: string): Request {
  const id = f.id;
  switch (op) {
    case 'get':
      return { id, op, session: f.str('session') };
    case 'logs':
      return {
        id,
        op,
        session: f.str('session'),
        stream: f.optStream('stream'),
        text: f.optBool('text'),
      };
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
        raw: f.optBool('raw'),
        lossless: f.optBool('lossless'),
      };
    default:
      throw new ProtocolError(`unknown op '${op}'`, id);
  }
}

/** An environment key a process can be given: not empty, no `=`, no NUL. */
const ENV_KEY = /^[^=\0]+$/;

/**
 * Checks a `spawn` request. A wrong type is `protocol`; a value that is well-typed but can never
 * be spawned (an empty argv, a NUL byte in argv, cwd or env, an env key that is empty or holds
 * `=`) is `invalid`, answered before anything is started.
 */
function parseSpawn(f: Fields): SpawnRequest {
  const value = f.o;
  const argv = value.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    f.fail("'argv' must be an array of strings");
  }
  if (argv.length === 0) f.fail("'argv' must not be empty", 'invalid');
  argv.forEach((word: string, i: number) => {
    if (word.includes('\0')) f.fail(`argv[${i}] holds a NUL byte`, 'invalid');
  });
  const cwd = f.optStr('cwd');
  if (cwd?.includes('\0')) f.fail("'cwd' holds a NUL byte", 'invalid');
  let env: Record<string, string> | undefined;
  if (value.env !== undefined && value.env !== null) {
    if (!isObj(value.env)) f.fail("'env' must be a map of strings");
    env = {};
    for (const [k, v] of Object.entries(value.env)) {
      if (typeof v !== 'string') f.fail(`env ${JSON.stringify(k)} must be a string`);
      if (!ENV_KEY.test(k)) {
        f.fail(`env key ${JSON.stringify(k)} must be non-empty, without '=' or NUL`, 'invalid');
      }
      if (v.includes('\0')) f.fail(`env ${JSON.stringify(k)} holds a NUL byte`, 'invalid');
      env[k] = v;
    }
  }
  let pty: { rows: number; cols: number } | undefined;
  if (value.pty !== undefined && value.pty !== null) {
    if (!isObj(value.pty)) f.fail("'pty' must be a map with rows and cols");
    const p = new Fields(value.pty, f.id, 'spawn pty');
    pty = { rows: p.int('rows', 1, MAX_ROWS_COLS), cols: p.int('cols', 1, MAX_ROWS_COLS) };
  }
  let restart: SpawnRequest['restart'];
  if (value.restart !== undefined && value.restart !== null) {
    if (!isObj(value.restart)) f.fail("'restart' must be a map");
    const r = new Fields(value.restart, f.id, 'spawn restart');
    const when = r.optStr('when');
    if (when !== undefined && when !== 'always' && when !== 'on-failure') {
      r.fail("'when' must be 'always' or 'on-failure'", 'invalid');
    }
    const day = 24 * 60 * 60 * 1000;
    restart = {
      ...(when === undefined ? {} : { when: when as 'always' | 'on-failure' }),
      maxRestarts: r.optInt('maxRestarts', 0, 1_000_000),
      backoffMs: r.optInt('backoffMs', 0, day),
      maxBackoffMs: r.optInt('maxBackoffMs', 0, day),
      minUptimeMs: r.optInt('minUptimeMs', 0, day),
    };
  }
  return {
    id: f.id,
    op: 'spawn',
    argv: argv as string[],
    cwd,
    env,
    originator: f.optStr('originator'),
    mergeStderr: f.optBool('mergeStderr'),
    pty,
    restart,
  };
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
      if (!isObj(value.exitInfo)) throw new ProtocolError("exit event without 'exitInfo'");
      return {
        ev: 'exit',
        exitInfo: value.exitInfo as unknown as WireExitInfo,
        exitedAt: num(value.exitedAt),
      };
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
