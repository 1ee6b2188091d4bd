/**
 * What the daemon does for each request: the bridge from protocol messages to the
 * `SessionRegistry` and its `Session`s. Library errors become protocol error codes here
 * (`errorCodeOf`), so every failure reaches the client as one clear line with a stable code.
 */
import type { Attachment, AttachmentFrame } from '../core/attachment.js';
import { SessionError } from '../core/errors.js';
import type { SessionRegistry } from '../core/registry.js';
import type { Session } from '../core/session.js';
import type { ExitState } from '../core/types.js';
import type {
  AttachRequest,
  ErrorCode,
  Request,
  StreamCommand,
  WireSessionInfo,
} from '../wire/protocol.js';
import { PROTOCOL_VERSION } from '../wire/protocol.js';
import {
  type AttachBinding,
  type ConnectionHost,
  type OutgoingEvent,
  RequestFailure,
  type ServerConnection,
} from './connection.js';
import type { Spooler } from './spool.js';

/** Library error codes (errors.ts) and what the protocol calls them. */
const CODE_MAP: Record<string, ErrorCode> = {
  ERR_INVALID_ARGUMENT: 'invalid',
  ERR_SPAWN_FAILED: 'spawn-failed',
  ERR_SESSION_NOT_FOUND: 'not-found',
  ERR_ALREADY_ATTACHED: 'already-attached',
  ERR_STREAM_UNAVAILABLE: 'invalid',
  ERR_STDIN_CLOSED: 'stdin-closed',
  ERR_SESSION_EXITED: 'exited',
  ERR_SESSION_RUNNING: 'running',
  ERR_NOT_A_PTY: 'unsupported',
  ERR_ATTACHMENT_CLOSED: 'invalid',
  ERR_READ_ONLY: 'invalid',
  ERR_REGISTRY_CLOSED: 'shutting-down',
};

/** The protocol code for a library error (`internal` for anything unexpected). */
export function errorCodeOf(e: unknown): ErrorCode {
  if (e instanceof RequestFailure) return e.code;
  if (e instanceof SessionError) return CODE_MAP[e.code] ?? 'internal';
  return 'internal';
}

function fail(e: unknown): never {
  if (e instanceof RequestFailure) throw e;
  const message = e instanceof Error ? e.message : String(e);
  throw new RequestFailure(errorCodeOf(e), message);
}

/** A session as sent on the wire. */
export function wireInfo(s: Session): WireSessionInfo {
  const info = s.info();
  return { ...info, exitState: info.exitState ? { ...info.exitState } : null };
}

/** Output gathered into one `data` event at most (from frames already queued). */
const BATCH_BYTES = 1024 * 1024;
/** Below this, a batch waits one event-loop turn for more output before it is sent. */
const SMALL_BATCH = 256 * 1024;

/** Turns one library frame into the stream events it stands for. */
function toEvents(frame: AttachmentFrame): OutgoingEvent[] {
  switch (frame.type) {
    case 'output':
      return [{ ev: 'data', parts: [frame.data], length: frame.data.length, offset: frame.offset }];
    case 'missed':
      return [{ ev: 'missed', bytes: frame.bytes, offset: frame.offset }];
    case 'eof':
      return [{ ev: 'eof', offset: frame.offset }];
    case 'exit':
      return [
        { ev: 'exit', exitState: { ...frame.exitState } },
        { ev: 'end', reason: 'exited' },
      ];
    case 'stolen':
      return [{ ev: 'end', reason: 'stolen', message: 'another client attached with steal' }];
  }
}

/** Shared state the handlers need from the daemon. */
export interface HandlerContext {
  log(line: string): void;
  spooler: Spooler | undefined;
  shutdown(): void;
}

/** The request handlers, one instance per daemon. */
export class DaemonHandlers {
  /** Set at shutdown: new sessions and attaches are refused. */
  shuttingDown = false;
  private readonly registry: SessionRegistry;
  private readonly ctx: HandlerContext;
  /** Attachments whose end reason the daemon decided (removed, shutdown). */
  private readonly endReasons = new WeakMap<Attachment, 'removed' | 'shutdown' | 'detached'>();

  constructor(registry: SessionRegistry, ctx: HandlerContext) {
    this.registry = registry;
    this.ctx = ctx;
  }

  /** The `ConnectionHost` each connection talks to. */
  hostFor(daemonVersion: string): ConnectionHost {
    return {
      hello: () => ({ version: PROTOCOL_VERSION, daemonPid: process.pid, daemonVersion }),
      handle: (request) => this.handle(request),
      attach: (request, conn) => this.attach(request, conn),
      log: (line) => this.ctx.log(line),
    };
  }

  /** Stops `s` (if running) and resolves once it has exited. */
  async terminateAndWait(s: Session, graceMs: number): Promise<ExitState> {
    if (s.exitState) return s.exitState;
    return s.terminate({ graceMs });
  }

  /** The session with this id or unique id prefix; `not-found` otherwise. */
  private session(id: string): Session {
    return this.registry.resolve(id);
  }

  async handle(request: Exclude<Request, { op: 'hello' | 'attach' }>): Promise<unknown> {
    try {
      return await this.dispatch(request);
    } catch (e) {
      fail(e);
    }
  }

  private async dispatch(request: Exclude<Request, { op: 'hello' | 'attach' }>): Promise<unknown> {
    switch (request.op) {
      case 'ping':
        return { now: Date.now() };
      case 'spawn': {
        if (this.shuttingDown) {
          throw new RequestFailure('shutting-down', 'the daemon is shutting down');
        }
        const s = await this.registry.spawn({
          argv: request.argv,
          cwd: request.cwd,
          env: request.env,
          originator: request.originator,
          mergeStderr: request.mergeStderr,
          pty: request.pty,
        });
        this.ctx.spooler?.track(s);
        this.ctx.log(`spawned ${s.kind} session ${s.id} (pid ${s.pid}): ${s.command}`);
        void s.exited.then((x) =>
          this.ctx.log(
            `session ${s.id} exited (${x.outcome}, ${
              x.signal ? `signal ${x.signal}` : `code ${x.exitCode}`
            })`,
          ),
        );
        return wireInfo(s);
      }
      case 'list':
        return this.registry.list({ originator: request.originator }).map(wireInfo);
      case 'get':
        return wireInfo(this.session(request.session));
      case 'logs': {
        const snap = this.session(request.session).snapshot(request.stream ?? 'stdout');
        return { data: snap.data, missedBytes: snap.missedBytes };
      }
      case 'send': {
        const s = this.session(request.session);
        const data = request.data ?? new Uint8Array(0);
        const bytesWritten = await s.writeStdin(data, { close: request.eof === true });
        return { bytesWritten };
      }
      case 'resize':
        this.session(request.session).resize(request.rows, request.cols);
        return {};
      case 'stop': {
        const s = this.session(request.session);
        const done = s.terminate({ graceMs: request.graceMs });
        if (request.wait) await done;
        else void done;
        return { session: wireInfo(s) };
      }
      case 'remove': {
        const s = this.session(request.session);
        if (s.exitState === null && !request.force) {
          throw new RequestFailure(
            'running',
            `session ${s.id} is still running (stop it first, or remove with force)`,
          );
        }
        this.markEnding(s, 'removed');
        await this.registry.remove(s.id, { force: request.force === true });
        return { removed: s.id };
      }
      case 'purge': {
        const doomed = this.registry
          .list({ originator: request.originator })
          .filter((s) => s.exitState !== null);
        for (const s of doomed) this.markEnding(s, 'removed');
        const removed = await this.registry.purgeExited(request.originator);
        return { removed };
      }
      case 'shutdown':
        queueMicrotask(() => this.ctx.shutdown());
        return {};
    }
  }

  /** Every live attachment of `s` will end with `reason` (used when the daemon ends them). */
  markEnding(s: Session, reason: 'removed' | 'shutdown'): void {
    const list = this.attachments.get(s);
    if (!list) return;
    for (const a of list) this.endReasons.set(a, reason);
  }

  /** The daemon's attachments per session, to tell why an iteration ended. */
  private readonly attachments = new Map<Session, Set<Attachment>>();

  async attach(request: AttachRequest, conn: ServerConnection): Promise<AttachBinding> {
    if (this.shuttingDown) throw new RequestFailure('shutting-down', 'the daemon is shutting down');
    let s: Session;
    let attachment: Attachment;
    const stream = request.stream ?? 'stdout';
    try {
      s = this.session(request.session);
      if (request.rows !== undefined && request.cols !== undefined && !request.readOnly) {
        // The replay should match the client's terminal: resize before taking the backlog.
        if (s.kind === 'pty' && s.exitState === null) s.resize(request.rows, request.cols);
      }
      attachment = s.attach(stream, {
        steal: request.steal === true,
        readOnly: request.readOnly === true,
        fromOffset: request.fromOffset,
      });
    } catch (e) {
      fail(e);
    }
    let set = this.attachments.get(s);
    if (!set) {
      set = new Set();
      this.attachments.set(s, set);
    }
    set.add(attachment);
    const forget = () => {
      set.delete(attachment);
      if (set.size === 0) this.attachments.delete(s);
    };
    const endReasons = this.endReasons;
    const log = this.ctx.log;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      attachment.detach();
      forget();
    };
    const it = attachment[Symbol.asyncIterator]();
    let finished = false;
    /** Waits for one frame, then takes what else is queued, up to BATCH_BYTES of output. */
    const next = async (): Promise<OutgoingEvent[] | undefined> => {
      if (finished) return undefined;
      const first = await it.next();
      if (first.done) {
        finished = true;
        // The iteration stopped without exit or steal: the daemon detached it.
        return [{ ev: 'end', reason: endReasons.get(attachment) ?? 'detached' }];
      }
      const out: OutgoingEvent[] = [];
      let data: Extract<OutgoingEvent, { ev: 'data' }> | undefined;
      let bytes = 0;
      const add = (frame: AttachmentFrame) => {
        if (frame.type === 'output') {
          bytes += frame.data.length;
          if (data && data.offset + data.length === frame.offset) {
            data.parts.push(frame.data);
            data.length += frame.data.length;
          } else {
            data = {
              ev: 'data',
              parts: [frame.data],
              length: frame.data.length,
              offset: frame.offset,
            };
            out.push(data);
          }
          return;
        }
        data = undefined;
        for (const ev of toEvents(frame)) {
          out.push(ev);
          if (ev.ev === 'end') finished = true;
        }
      };
      add(first.value);
      for (let turn = 0; ; turn++) {
        while (!finished && bytes < BATCH_BYTES) {
          const frame = attachment.read();
          if (frame === undefined) break;
          add(frame);
        }
        // A small batch waits one turn of the event loop for the reads already under way:
        // fewer, larger writes cost the daemon less per byte than one write per pipe read.
        if (finished || bytes >= SMALL_BATCH || turn > 0) break;
        await new Promise<void>((r) => setImmediate(r));
      }
      return out;
    };
    return {
      result: {
        session: wireInfo(s),
        stream,
        readOnly: attachment.readOnly,
        missedBytes: attachment.missedBytes,
        backlogOffset: attachment.backlogOffset,
        backlogBytes: attachment.backlog.byteLength,
      },
      backlog: attachment.backlog,
      backlogOffset: attachment.backlogOffset,
      next,
      command: (c: StreamCommand) => {
        switch (c.op) {
          case 'detach':
            endReasons.set(attachment, 'detached');
            attachment.detach();
            return;
          case 'input':
            attachment.write(c.data).catch((e: unknown) => {
              log(`session ${s.id}: input from connection ${conn.id} failed: ${String(e)}`);
              conn.endStream('error', (e as Error).message);
            });
            return;
          case 'eof':
            attachment.closeStdin().catch((e: unknown) => {
              conn.endStream('error', (e as Error).message);
            });
            return;
          case 'resize':
            attachment.resize(c.rows, c.cols);
            return;
        }
      },
      release,
    };
  }
}
