/**
 * The sessions daemon: a `SessionRegistry` behind a Unix socket.
 *
 * `SessionDaemon.start` claims the socket path (folder 0700, socket 0600; a stale socket is
 * replaced, a live one refused with `SocketPathError`), listens, and serves every connection with
 * the protocol of protocol.ts. Only processes of this user are served: a peer of another uid
 * (by `SO_PEERCRED`) is refused with `access`; past `maxConnections` a new connection is refused
 * with `busy`; one that does not say hello in `helloTimeoutMs` is closed. `shutdown()` (which
 * the `sluice daemon` command calls on SIGTERM and SIGINT) stops accepting, removes the socket,
 * stops every session — the soft signal to its process group, SIGKILL after the grace, and
 * SIGKILL to any descendant that had left the group — sends every attached client its session's
 * `exit` (with its `ExitInfo`) and then `end: shutdown`, and resolves once no child is left.
 *
 * With `http`, the daemon also serves the dashboard (src/sessions/dashboard): its module, and
 * with it every HTTP module, is imported only then, so a daemon without it loads none of them.
 */

import { chmodSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  DEFAULT_GRACE_MS,
  descendants,
  InvalidOptionError,
  listProcesses,
  type ProcStat,
} from '../../proc/index.js';
import { SessionRegistry } from '../core/registry.js';
import type { DashboardServer } from '../dashboard/index.js';
// The address parser alone: it loads no HTTP module, so a bad --http fails before anything starts.
import { parseListenAddress } from '../dashboard/listen.js';
import { encodeFrame } from '../wire/frames.js';
import { ownUid, peerCredentials } from '../wire/peer-credentials.js';
import { type ErrorCode, PROTOCOL_VERSION } from '../wire/protocol.js';
import { defaultSocketPath } from '../wire/socket-path.js';
import { AdoptedProcesses } from './adopted.js';
import { DEFAULT_HELLO_TIMEOUT_MS, ServerConnection } from './connection.js';
import { DaemonHandlers } from './handlers.js';
import { claimSocketPath } from './socket-claim.js';
import { Spooler, type SpoolOptions } from './spool.js';

/** How many clients the daemon serves at once unless told otherwise (`maxConnections`). */
export const DEFAULT_MAX_CONNECTIONS = 256;

/** Options of `SessionDaemon.start`. */
export interface DaemonOptions {
  /**
   * Where to listen.
   * @default defaultSocketPath()
   */
  socketPath?: string;
  /**
   * Spool every stream of every session to files here (see spool.ts).
   * @default no spooling
   */
  logDir?: string;
  /** Size cap and rotation of spooled files. */
  spool?: Omit<SpoolOptions, 'dir'>;
  /**
   * The registry to serve; the daemon shuts it down at shutdown.
   * @default a new `SessionRegistry`
   */
  registry?: SessionRegistry;
  /**
   * Wait between each session's soft signal and SIGKILL at shutdown.
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /** @deprecated Renamed `graceMs` (sluice's one name for the stop grace). */
  shutdownGraceMs?: number;
  /**
   * Make the daemon a child subreaper (Linux): a session's descendant whose parent exits (a
   * double fork, a `setsid` daemon) is re-parented to the daemon instead of to init, and is ended
   * with its session (on stop, remove and shutdown) and reaped when it exits. A subreaper adopts
   * every orphan below its process, so leave it off in a process that runs other children.
   * @default false (`sluice daemon` turns it on)
   */
  adoptOrphans?: boolean;
  /**
   * Connections served at once (request connections and attach streams together). One more is
   * answered `busy` and closed, so a flood of connections cannot use up the daemon's fds.
   * @default DEFAULT_MAX_CONNECTIONS (256)
   */
  maxConnections?: number;
  /**
   * How long a new connection may stay silent before its `hello`; then it is closed.
   * @default 10000
   */
  helloTimeoutMs?: number;
  /**
   * Where log lines go; `null` silences them.
   * @default stderr, each line with a timestamp
   */
  log?: ((line: string) => void) | null;
  /**
   * Serve the dashboard and `/metrics` over HTTP (docs/dashboard.md). `listen` is
   * `[HOST:]PORT` (port 0 picks a free one); a host that is not loopback needs `allowRemote`.
   * @default no dashboard, and no HTTP module loaded
   */
  http?: {
    /** `[HOST:]PORT` to listen on; the host defaults to 127.0.0.1, port 0 picks a free one. */
    listen: string;
    /** Allow a host that is not loopback (the dashboard is then reachable from the network). @default false */
    allowRemote?: boolean;
    /** The access token browsers and `/metrics` clients must present. @default a new random one each start */
    token?: string;
  };
}

function packageVersion(): string {
  try {
    const url = new URL('../../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * A running daemon. Guarantees: one `ServerConnection` per client; no request can crash it (see
 * server-connection.ts); `shutdown()` is idempotent and leaves no child process, socket file or
 * open handle behind; `closed` resolves when it has finished.
 */
export class SessionDaemon {
  /** The Unix socket the daemon listens on (resolved: the default path when none was given). */
  readonly socketPath: string;
  /** The registry whose sessions the daemon serves; shut down with the daemon. */
  readonly registry: SessionRegistry;
  /** The sluice package version the daemon runs (`unknown` when package.json cannot be read). */
  readonly version = packageVersion();
  /** Resolves once `shutdown` has finished. */
  readonly closed: Promise<void>;
  private readonly server: Server;
  private readonly connections = new Set<ServerConnection>();
  private readonly handlers: DaemonHandlers;
  private readonly graceMs: number;
  private readonly maxConnections: number;
  private readonly helloTimeoutMs: number;
  /** Connections refused (another uid, or over `maxConnections`) and not closed yet. */
  private readonly refused = new Set<Socket>();
  private readonly logLine: (line: string) => void;
  private readonly spooler: Spooler | undefined;
  private readonly adopted: AdoptedProcesses | undefined;
  private socketIno = 0;
  /** Whether the daemon made the socket's folder: then it removes it again when it stops. */
  private createdDir = false;
  private shutdownPromise: Promise<void> | undefined;
  /** The dashboard, when the daemon serves one (`http`). */
  dashboard: DashboardServer | undefined;
  private resolveClosed!: () => void;

  private constructor(options: DaemonOptions, socketPath: string) {
    this.socketPath = socketPath;
    this.registry = options.registry ?? new SessionRegistry();
    this.graceMs = options.graceMs ?? options.shutdownGraceMs ?? DEFAULT_GRACE_MS;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.helloTimeoutMs = options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    const log = options.log;
    this.logLine =
      log === null
        ? () => {}
        : (log ??
          ((line: string) =>
            process.stderr.write(`${new Date().toISOString()} sluice daemon: ${line}\n`)));
    this.spooler = options.logDir
      ? new Spooler({ ...options.spool, dir: options.logDir }, this.logLine)
      : undefined;
    this.adopted = options.adoptOrphans
      ? new AdoptedProcesses(this.registry, this.logLine)
      : undefined;
    this.handlers = new DaemonHandlers(this.registry, {
      log: this.logLine,
      spooler: this.spooler,
      adopted: this.adopted,
      shutdown: () => {
        void this.shutdown('a client asked');
      },
      dashboard: () => this.dashboard,
    });
    // A deep write buffer keeps the kernel socket full between 'drain's on attach streams.
    this.server = createServer({ pauseOnConnect: false, highWaterMark: 1024 * 1024 }, (socket) =>
      this.accept(socket),
    );
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  /**
   * Claims the socket path and listens. Rejects with `InvalidOptionError` for an option that can
   * never work, `SocketPathError` when the folder is unsafe or a live daemon answers there;
   * nothing is left behind on failure. The caller owns the daemon: `shutdown()` it (or use
   * `await using`), which stops every session.
   *
   * @example
   * ```ts
   * await using daemon = await SessionDaemon.start({ socketPath: '/run/me/sluice.sock' });
   * await daemon.closed; // until a client asks it to shut down
   * ```
   */
  static async start(options: DaemonOptions = {}): Promise<SessionDaemon> {
    checkDaemonOptions(options);
    const socketPath = options.socketPath ?? defaultSocketPath();
    if (options.http) parseListenAddress(options.http.listen, options.http);
    if (options.logDir) Spooler.prepare(options.logDir);
    const createdDir = await claimSocketPath(socketPath);
    const daemon = new SessionDaemon(options, socketPath);
    daemon.createdDir = createdDir;
    await daemon.listen();
    daemon.logLine(
      `listening on ${socketPath} (pid ${process.pid}, protocol ${PROTOCOL_VERSION}${
        options.logDir ? `, spooling to ${options.logDir}` : ''
      })`,
    );
    if (options.http) {
      try {
        await daemon.startDashboard(options.http);
      } catch (e) {
        // A dashboard that cannot start (bad address, port in use) leaves no daemon behind.
        await daemon.shutdown('the dashboard could not start');
        throw e;
      }
    }
    return daemon;
  }

  private async startDashboard(http: NonNullable<DaemonOptions['http']>): Promise<void> {
    const { DashboardServer, isLoopbackHost, parseListenAddress } = await import(
      '../dashboard/index.js'
    );
    const address = parseListenAddress(http.listen, { allowRemote: http.allowRemote });
    this.dashboard = await DashboardServer.start({
      listen: address,
      allowRemote: http.allowRemote,
      token: http.token,
      log: this.logLine,
      host: {
        sessions: () => this.registry.list(),
        session: (id) => this.registry.resolve(id),
        // The same paths as the protocol's stop and remove, so other clients hear the same.
        stop: async (id) => {
          await this.handlers.handle({ id: 1, op: 'stop', session: id });
        },
        remove: async (id) => {
          await this.handlers.handle({ id: 1, op: 'remove', session: id, force: true });
        },
      },
    });
    if (!isLoopbackHost(address.host)) {
      this.logLine(
        `warning: the dashboard listens on ${address.host}, reachable from other machines: anyone with its token can read and drive every session`,
      );
    }
    this.logLine(`dashboard at ${this.dashboard.origin}/ (the token is in the printed address)`);
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      // The socket is created by bind(2) inside listen(), synchronously: a umask of 0177 makes it
      // 0600 from its first instant, so there is no window where another user could connect.
      const oldMask = process.umask(0o177);
      const onError = (e: Error) => {
        process.umask(oldMask);
        this.server.close();
        reject(e);
      };
      this.server.once('error', onError);
      try {
        this.server.listen(this.socketPath, () => {
          this.server.off('error', onError);
          this.server.on('error', (e) => this.logLine(`server error: ${e.message}`));
          try {
            chmodSync(this.socketPath, 0o600);
            this.socketIno = statSync(this.socketPath).ino;
          } catch (e) {
            this.server.close();
            reject(e);
            return;
          }
          resolve();
        });
      } finally {
        process.umask(oldMask);
      }
    });
  }

  private accept(socket: Socket): void {
    if (this.shutdownPromise) {
      socket.destroy();
      return;
    }
    const peer = peerCredentials(socket);
    const uid = ownUid();
    if (peer && peer.uid !== uid) {
      this.logLine(`refused a connection from pid ${peer.pid}, uid ${peer.uid}: not this user`);
      this.refuse(socket, 'access', `this daemon serves uid ${uid} only`);
      return;
    }
    if (this.connections.size >= this.maxConnections) {
      this.refuse(
        socket,
        'busy',
        `the daemon serves ${this.maxConnections} connections at most; retry later`,
      );
      return;
    }
    const conn = new ServerConnection(
      socket,
      this.handlers.hostFor(this.version),
      this.helloTimeoutMs,
    );
    this.connections.add(conn);
    socket.once('close', () => this.connections.delete(conn));
  }

  /**
   * Answers one error frame and ends the connection. What the peer sends meanwhile is read and
   * thrown away unparsed (so its writes do not fail before it has read the answer); after a
   * second the socket is destroyed whatever the peer does, so a refused peer holds no fd long.
   */
  private refuse(socket: Socket, code: ErrorCode, message: string): void {
    this.refused.add(socket);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => this.refused.delete(socket));
    socket.end(encodeFrame({ id: 0, ok: false, error: { code, message } }));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** `await using`: the same as `shutdown()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown('disposed');
  }

  /** Connected clients now (request connections and attach streams). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops everything (see the module comment). Resolves when done; later calls return the same
   * promise. Sessions are stopped in parallel, each within `shutdownGraceMs` plus the SIGKILL.
   */
  shutdown(reason = 'asked'): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    this.shutdownPromise = this.doShutdown(reason);
    return this.shutdownPromise;
  }

  private async doShutdown(reason: string): Promise<void> {
    this.logLine(`shutting down (${reason})`);
    this.handlers.shuttingDown = true;
    // Browser terminals detach and pages close before the sessions stop.
    await this.dashboard?.close();
    this.server.close();
    this.removeSocketFile();

    const sessions = this.registry.list();
    // Everything below each session, recorded before any signal: a grandchild that left the
    // session's process group is re-parented once its parent dies and could not be found later.
    const table = listProcesses();
    const tree = new Map<number, ProcStat[]>();
    for (const s of sessions) {
      if (s.exitInfo === null) tree.set(s.pid, descendants(s.pid, table));
    }
    for (const s of sessions) this.handlers.markEnding(s, 'shutdown');
    // Stops every session (the soft signal to each group, the grace, SIGKILL) while it is still
    // registered, so each attached client is sent its session's exit, then `end: shutdown`...
    await Promise.all(
      sessions.map((s) =>
        s.terminate({ graceMs: this.graceMs }).catch((e: unknown) => {
          this.logLine(`stopping session ${s.id}: ${(e as Error).message}`);
        }),
      ),
    );
    await this.streamsEnded(1000);
    // ...then releases them all.
    try {
      await this.registry.shutdown({ graceMs: this.graceMs });
    } catch (e) {
      this.logLine(`stopping sessions: ${(e as Error).message}`);
    }
    let stragglers = 0;
    const now = new Map(listProcesses().map((p) => [p.pid, p]));
    for (const procs of tree.values()) {
      for (const p of procs) {
        if (killIfSame(p, now.get(p.pid))) stragglers++;
      }
    }
    if (stragglers > 0) this.logLine(`killed ${stragglers} process(es) that had left their group`);
    await this.adopted?.endAll(this.graceMs);
    this.adopted?.close();

    for (const conn of this.connections) {
      if (conn.streaming) conn.endStream('shutdown');
      else conn.close();
    }
    await this.spooler?.close();
    if (!(await this.connectionsGone(() => this.connections.size, 1000))) {
      for (const c of this.connections) c.destroy();
    }
    for (const socket of this.refused) socket.destroy();
    this.logLine('stopped');
    this.resolveClosed();
  }

  /**
   * Waits, up to `ms`, until every attach stream has sent its last event (the session's exit,
   * then `end`) and closed. Resolves false when some were still open at the deadline.
   */
  private streamsEnded(ms: number): Promise<boolean> {
    return this.connectionsGone(() => [...this.connections].filter((c) => c.streaming).length, ms);
  }

  /** Polls `count()` every 5 ms until it is 0 (true) or `ms` have passed (false). */
  private connectionsGone(count: () => number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (count() === 0) {
        resolve(true);
        return;
      }
      const deadline = Date.now() + ms;
      const check = setInterval(() => {
        const left = count();
        if (left === 0 || Date.now() >= deadline) {
          clearInterval(check);
          resolve(left === 0);
        }
      }, 5);
    });
  }

  private removeSocketFile(): void {
    try {
      // Only our own socket: another daemon may have replaced a socket we thought stale.
      if (statSync(this.socketPath).ino === this.socketIno) unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
    if (this.createdDir) {
      try {
        rmdirSync(dirname(this.socketPath)); // only if empty: never anything someone put there
      } catch {
        // not empty, or gone
      }
    }
  }
}

/** SIGKILLs `p` if the same process (same pid and command name) still runs as `now`. */
function killIfSame(p: ProcStat, now: ProcStat | undefined): boolean {
  if (!now || now.state === 'Z' || now.comm !== p.comm) return false;
  try {
    process.kill(p.pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Refuses daemon options that can never work, before anything is claimed or started. */
function checkDaemonOptions(options: DaemonOptions): void {
  const positive = (name: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)) {
      throw new InvalidOptionError(name, `must be a positive integer, got ${String(v)}`);
    }
  };
  const nonNegative = (name: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidOptionError(name, `must be a finite number >= 0, got ${String(v)}`);
    }
  };
  positive('maxConnections', options.maxConnections);
  positive('helloTimeoutMs', options.helloTimeoutMs);
  nonNegative('graceMs', options.graceMs);
  nonNegative('shutdownGraceMs', options.shutdownGraceMs);
}
