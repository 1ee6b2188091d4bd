/**
 * What the daemon does for each request: the bridge from protocol messages to the
 * `SessionRegistry` and its `Session`s. Library errors become protocol error codes here
 * (`errorCodeOf`), so every failure reaches the client as one clear line with a stable code.
 */
import type { ExitInfo } from '../../proc/index.js';
import { DEFAULT_GRACE_MS, InvalidOptionError, SpawnError } from '../../proc/index.js';
import type { Attachment } from '../core/attachment.js';
import { SessionsError } from '../core/errors.js';
import type { SessionRegistry } from '../core/registry.js';
import type { Session } from '../core/session.js';
import type { WireFlowPublication } from '../wire/flow-publication.js';
import type {
  AttachRequest,
  ErrorCode,
  PurgeRequest,
  RemoveRequest,
  Request,
  SpawnRequest,
  WireSessionInfo,
} from '../wire/protocol.js';
import { PROTOCOL_VERSION } from '../wire/protocol.js';
import { bindAttachment, type EndReasonByDaemon } from './attach-stream.js';
import {
  type AttachBinding,
  type ConnectionHost,
  RequestFailure,
  type ServerConnection,
} from './connection.js';
import type { Spooler } from './spool.js';

/** Library error codes (core/errors.ts) and what the protocol calls them. */
const CODE_MAP: Record<string, ErrorCode> = {
  ERR_SLUICE_SESSIONS_NOT_FOUND: 'not-found',
  ERR_SLUICE_SESSIONS_AMBIGUOUS_ID: 'ambiguous',
  ERR_SLUICE_SESSIONS_ID_TOO_SHORT: 'invalid',
  ERR_SLUICE_SESSIONS_ALREADY_ATTACHED: 'already-attached',
  ERR_SLUICE_SESSIONS_STREAM_UNAVAILABLE: 'invalid',
  ERR_SLUICE_SESSIONS_STDIN_CLOSED: 'stdin-closed',
  ERR_SLUICE_SESSIONS_EXITED: 'exited',
  ERR_SLUICE_SESSIONS_RUNNING: 'running',
  ERR_SLUICE_SESSIONS_NOT_A_PTY: 'unsupported',
  ERR_SLUICE_SESSIONS_ATTACHMENT_CLOSED: 'invalid',
  ERR_SLUICE_SESSIONS_READ_ONLY: 'invalid',
  ERR_SLUICE_SESSIONS_REGISTRY_CLOSED: 'shutting-down',
};

/**
 * The protocol code for a library error: a bad argument (a NUL byte, an empty argv, a bad env
 * key, a bad size) is `invalid`; a spawn the system refused (not found, no permission, bad cwd,
 * out of fds or processes) is `spawn-failed`, for that request only; `internal` only for the
 * unexpected.
 */
export function errorCodeOf(e: unknown): ErrorCode {
  if (e instanceof RequestFailure) return e.code;
  if (e instanceof InvalidOptionError) return 'invalid';
  if (e instanceof SpawnError) return 'spawn-failed';
  if (e instanceof SessionsError) return CODE_MAP[e.code] ?? 'internal';
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
  return {
    ...info,
    exitInfo: info.exitInfo ? { ...info.exitInfo } : null,
    lastExit: info.lastExit ? { ...info.lastExit } : null,
  };
}

/** The policy's given fields only (the supervisor's defaults fill the rest). */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Shared state the handlers need from the daemon. */
export interface HandlerContext {
  log(line: string): void;
  spooler: Spooler | undefined;
  shutdown(): void;
  /** The processes the daemon adopted as a subreaper; a session's are ended with it. */
  adopted?: { endFor(sessionId: string, graceMs: number): Promise<number> };
  /** The dashboard's flow board and address, when the daemon serves one (`--http`). */
  dashboard(): DashboardHooks | undefined;
}

/** What the handlers need of a running dashboard. */
export interface DashboardHooks {
  url: string;
  origin: string;
  token: string;
  flows: { publish(flow: WireFlowPublication): void; unpublish(name: string): void };
}

/** The request handlers, one instance per daemon. */
export class DaemonHandlers {
  /** Set at shutdown: new sessions and attaches are refused. */
  shuttingDown = false;
  private readonly registry: SessionRegistry;
  private readonly ctx: HandlerContext;
  /** Attachments whose end reason the daemon decided (removed, shutdown). */
  private readonly endReasons = new WeakMap<Attachment, EndReasonByDaemon>();

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
  async terminateAndWait(s: Session, graceMs: number): Promise<ExitInfo> {
    if (s.exitInfo) return s.exitInfo;
    return s.terminate({ graceMs });
  }

  /** The session with this id or id prefix (4 characters or more, one match); else an error. */
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
      case 'spawn':
        return this.spawn(request);
      case 'list':
        return this.registry.list({ originator: request.originator }).map(wireInfo);
      case 'get':
        return wireInfo(this.session(request.session));
      case 'logs': {
        const s = this.session(request.session);
        const snap = s.snapshot(request.stream ?? 'stdout');
        if (request.text === true && s.screen && (request.stream ?? 'stdout') === 'stdout') {
          const { text } = await s.screen.text();
          return { data: fitText(text), missedBytes: 0, text: true };
        }
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
        // What left the session's group (re-parented to the daemon) ends with it.
        const graceMs = request.graceMs ?? DEFAULT_GRACE_MS;
        const done = s
          .terminate({ graceMs })
          .finally(() => this.ctx.adopted?.endFor(s.id, graceMs));
        if (request.wait) await done;
        else void done;
        return { session: wireInfo(s) };
      }
      case 'remove':
        return this.remove(request);
      case 'purge':
        return this.purge(request);
      case 'shutdown':
        queueMicrotask(() => this.ctx.shutdown());
        return {};
      case 'publishFlow': {
        const board = this.ctx.dashboard()?.flows;
        board?.publish(request.flow);
        return { shown: board !== undefined };
      }
      case 'unpublishFlow':
        this.ctx.dashboard()?.flows.unpublish(request.name);
        return {};
      case 'dashboard': {
        const d = this.ctx.dashboard();
        return { url: d?.url ?? null, origin: d?.origin ?? null, token: d?.token ?? null };
      }
    }
  }

  /** Starts a session; a spawn the system refuses fails this request only. */
  private async spawn(request: SpawnRequest): Promise<WireSessionInfo> {
    if (this.shuttingDown) throw new RequestFailure('shutting-down', 'the daemon is shutting down');
    const s = await this.registry.spawn({
      argv: request.argv,
      cwd: request.cwd,
      env: request.env,
      originator: request.originator,
      mergeStderr: request.mergeStderr,
      pty: request.pty,
      ...(request.restart ? { restart: withoutUndefined(request.restart) } : {}),
    });
    this.ctx.spooler?.track(s);
    this.ctx.log(`spawned ${s.kind} session ${s.id} (pid ${s.pid}): ${s.command}`);
    void s.exited.then((x) =>
      this.ctx.log(
        `session ${s.id} exited (${x.outcome}, ${x.signal ? `signal ${x.signal}` : `code ${x.exitCode}`})`,
      ),
    );
    return wireInfo(s);
  }

  private async remove(request: RemoveRequest): Promise<{ removed: string }> {
    const s = this.session(request.session);
    if (s.exitInfo === null && !request.force) {
      throw new RequestFailure(
        'running',
        `session ${s.id} is still running (stop it first, or remove with force)`,
      );
    }
    this.markEnding(s, 'removed');
    await this.registry.remove(s.id, { force: request.force === true });
    await this.ctx.adopted?.endFor(s.id, 0);
    return { removed: s.id };
  }

  private async purge(request: PurgeRequest): Promise<{ removed: string[] }> {
    const doomed = this.registry
      .list({ originator: request.originator })
      .filter((s) => s.exitInfo !== null);
    for (const s of doomed) this.markEnding(s, 'removed');
    const removed = await this.registry.purgeExited(request.originator);
    return { removed };
  }

  /** Every live attachment of `s` will end with `reason` (used when the daemon ends them). */
  markEnding(s: Session, reason: 'removed' | 'shutdown'): void {
    const list = this.attachments.get(s);
    if (!list) return;
    for (const a of list) this.endReasons.set(a, reason);
  }

  /** The daemon's attachments per session, to tell why an iteration ended. */
  private readonly attachments = new Map<Session, Set<Attachment>>();

  /**
   * Attaches `conn` to one stream of a session: resizes a PTY to the client's terminal first (so
   * the replay matches it), takes the seat, and hands the connection an `AttachBinding` that
   * pumps the attachment's frames as stream events (see attach-stream.ts).
   */
  async attach(request: AttachRequest, conn: ServerConnection): Promise<AttachBinding> {
    if (this.shuttingDown) throw new RequestFailure('shutting-down', 'the daemon is shutting down');
    let s: Session;
    let attachment: Attachment;
    let screen: readonly Buffer[] = [];
    try {
      s = this.session(request.session);
      if (request.rows !== undefined && request.cols !== undefined && !request.readOnly) {
        if (s.kind === 'pty' && s.exitInfo === null) s.resize(request.rows, request.cols);
      }
      const options = {
        steal: request.steal === true,
        readOnly: request.readOnly === true,
        fromOffset: request.fromOffset,
        lossless: request.lossless === true,
      };
      if (request.raw === true) {
        attachment = s.attach(request.stream ?? 'stdout', options);
      } else {
        // A PTY with a screen: its drawing (made for a viewer's own size), then the stream from
        // the offset it was taken at. The writer resized the session above, so it fits.
        const fit = request.readOnly ? { rows: request.rows, cols: request.cols } : {};
        ({ attachment, screenParts: screen } = await s.attachScreen(request.stream ?? 'stdout', {
          ...options,
          ...fit,
        }));
      }
    } catch (e) {
      fail(e);
    }
    this.track(s, attachment);
    return bindAttachment({
      session: s,
      attachment,
      screen,
      info: wireInfo(s),
      conn,
      log: this.ctx.log,
      endReason: () => this.endReasons.get(attachment),
      setEndReason: (reason) => this.endReasons.set(attachment, reason),
      forget: () => this.untrack(s, attachment),
    });
  }

  private track(s: Session, attachment: Attachment): void {
    let set = this.attachments.get(s);
    if (!set) {
      set = new Set();
      this.attachments.set(s, set);
    }
    set.add(attachment);
  }

  private untrack(s: Session, attachment: Attachment): void {
    const set = this.attachments.get(s);
    if (!set) return;
    set.delete(attachment);
    if (set.size === 0) this.attachments.delete(s);
  }
}

/** The most of a screen's text one answer carries: its frame is at most 4 MiB. */
const MAX_TEXT_BYTES = 3 * 1024 * 1024;

/** The screen's text as UTF-8, cut at a line start from the front when it is too long. */
function fitText(text: string): Buffer {
  const all = Buffer.from(text, 'utf8');
  if (all.length <= MAX_TEXT_BYTES) return all;
  const from = all.indexOf(0x0a, all.length - MAX_TEXT_BYTES);
  return all.subarray(from < 0 ? all.length - MAX_TEXT_BYTES : from + 1);
}
