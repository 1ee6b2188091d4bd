/**
 * The dashboard's HTTP and WebSocket server: the page, `/metrics`, and the live feeds, all
 * behind the access token (see access.ts). Built on `node:http` and `ws`; loaded by the daemon
 * only when `--http` asks for it, so a daemon without a dashboard loads no HTTP module.
 *
 * Routes: `GET /` the page (without a valid token: a small page that reads `#token=` from the
 * address, trades it for the cookie at `POST /login`, and reloads; or says the token is
 * missing), `GET /app.js` and `/app.css` (the bundled page), `GET /metrics` (Prometheus text),
 * `GET /api/sessions` and `/api/flows` (JSON), and the WebSockets `/ws/sessions`, `/ws/term`,
 * `/ws/flows`.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { InvalidOptionError } from '../../proc/index.js';
import { Access } from './access.js';
import { loadPageAssets } from './assets.js';
import { FlowBoard } from './flow-board.js';
import { FlowsFeed } from './flows-feed.js';
import type { DashboardHost } from './host.js';
import { hostPort, isLoopbackHost, type ListenAddress, parseListenAddress } from './listen.js';
import { createMetrics } from './metrics.js';
import { SessionsFeed } from './sessions-feed.js';
import { bindTerminal, parseTerminalQuery } from './terminal-socket.js';
import { newToken } from './token.js';

/** Options of `DashboardServer.start`. */
export interface DashboardOptions {
  /** The daemon's sessions and its stop and remove. */
  host: DashboardHost;
  /** Where to listen: `[HOST:]PORT` or a parsed address. Port 0 picks a free port. */
  listen: string | ListenAddress;
  /** Allow a non-loopback host. @default false */
  allowRemote?: boolean;
  /** The access token. @default a new random one (token.ts) */
  token?: string;
  /** The board published flows are kept on. @default a new `FlowBoard` */
  flows?: FlowBoard;
  /** How often open pages' session lists refresh, in ms. @default 500 */
  listIntervalMs?: number;
  /** Where log lines go. @default none */
  log?: (line: string) => void;
}

const LOGIN_SCRIPT = `(function(){function run(){var m=/[#&]token=([^&]+)/.exec(location.hash);var msg=document.getElementById('msg');if(!m)return;msg.textContent='Checking the token\\u2026';fetch('/login',{method:'POST',headers:{Authorization:'Bearer '+decodeURIComponent(m[1])}}).then(function(r){if(r.ok){location.replace('/');}else{msg.textContent='Refused: this token is wrong or out of date (the daemon makes a new one each time it starts). Run sluice dashboard for the current address.';}},function(){msg.textContent='The daemon did not answer.';});}run();addEventListener('hashchange',run);})();`;
const LOGIN_HASH = createHash('sha256').update(LOGIN_SCRIPT).digest('base64');
const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sluice dashboard</title><style>body{font:16px system-ui,sans-serif;margin:3em;color:#222}code{background:#eee;padding:0 .3em}</style></head><body><h1>sluice dashboard</h1><p id="msg" role="alert">This dashboard needs its access token. Open the address <code>sluice dashboard</code> prints (it ends in <code>#token=…</code>).</p><script>${LOGIN_SCRIPT}</script></body></html>`;
const APP_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>sluice dashboard</title><link rel="stylesheet" href="/app.css"></head><body><div id="app"></div><script src="/app.js"></script></body></html>`;

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};
const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";
const LOGIN_CSP = `default-src 'none'; script-src 'sha256-${LOGIN_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'`;

/**
 * A running dashboard. `close()` (or `await using`) closes every page's socket, detaches every
 * browser terminal and stops listening; the sessions themselves are the daemon's and stay.
 *
 * @example
 * ```ts
 * await using dash = await DashboardServer.start({ host: registryHost(registry), listen: '0' });
 * console.log(dash.url); // http://127.0.0.1:PORT/#token=…
 * ```
 */
export class DashboardServer {
  /** The address to open, token included: `http://HOST:PORT/#token=TOKEN`. */
  readonly url: string;
  /** The address without the token. */
  readonly origin: string;
  /** The access token a browser or a `/metrics` client must present. */
  readonly token: string;
  /** The TCP port it listens on (the one picked, when port 0 was asked for). */
  readonly port: number;
  /** The board whose published flows it shows (given in the options, or its own). */
  readonly flows: FlowBoard;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #access: Access;
  readonly #host: DashboardHost;
  readonly #sessionsFeed: SessionsFeed;
  readonly #flowsFeed: FlowsFeed;
  readonly #metrics: ReturnType<typeof createMetrics>;
  readonly #log: (line: string) => void;
  readonly #sockets = new Set<Socket>();
  readonly #ownsBoard: boolean;
  #closing: Promise<void> | undefined;

  private constructor(
    server: Server,
    address: ListenAddress,
    port: number,
    options: DashboardOptions,
    token: string,
  ) {
    this.#server = server;
    this.port = port;
    this.token = token;
    this.#host = options.host;
    this.#log = options.log ?? (() => {});
    this.#ownsBoard = options.flows === undefined;
    this.flows = options.flows ?? new FlowBoard();
    const urlHost =
      address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
    this.origin = `http://${hostPort(urlHost, port)}`;
    this.url = `${this.origin}/#token=${token}`;
    this.#access = new Access(token, port, isLoopbackHost(address.host));
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    this.#sessionsFeed = new SessionsFeed(this.#host, options.listIntervalMs ?? 500, this.#log);
    this.#flowsFeed = new FlowsFeed(this.flows);
    this.#metrics = createMetrics(this.#host, this.flows);
    server.on('request', (req, res) => {
      this.#request(req, res).catch((e: unknown) => {
        this.#log(`dashboard: ${req.method} ${req.url}: ${String(e)}`);
        if (!res.headersSent) this.#text(res, 500, 'internal error\n');
        else res.destroy();
      });
    });
    server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head));
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /**
   * Listens and resolves once the port is bound. Rejects with `InvalidOptionError` (option
   * `http`) for a bad or non-loopback address without `allowRemote`, or a port that cannot be
   * bound (in use, not permitted); nothing is left open then.
   */
  static async start(options: DashboardOptions): Promise<DashboardServer> {
    const address =
      typeof options.listen === 'string'
        ? parseListenAddress(options.listen, { allowRemote: options.allowRemote })
        : options.listen;
    if (!isLoopbackHost(address.host) && options.allowRemote !== true) {
      throw new InvalidOptionError('http', `'${address.host}' is not loopback; allowRemote is off`);
    }
    const server = createServer({ keepAliveTimeout: 5000 });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        server.close();
        reject(
          new InvalidOptionError(
            'http',
            `cannot listen on ${hostPort(address.host, address.port)}: ${e.code ?? e.message}`,
            { cause: e },
          ),
        );
      };
      server.once('error', onError);
      server.listen(address.port, address.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : address.port;
    return new DashboardServer(server, address, port, options, options.token ?? newToken());
  }

  /** Pages whose session list is open now. */
  get openPages(): number {
    return this.#sessionsFeed.size;
  }

  /**
   * Closes every page's socket (browser terminals detach), stops listening and, when it made
   * its own board, forgets the flows. Idempotent; resolves when every socket is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#sessionsFeed.close();
      this.#flowsFeed.close();
      for (const ws of this.#wss.clients) ws.terminate();
      this.#wss.close();
      const closed = new Promise<void>((r) => this.#server.close(() => r()));
      for (const s of this.#sockets) s.destroy();
      await closed;
      if (this.#ownsBoard) this.flows.close();
    })();
    return this.#closing;
  }

  /** The same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (!this.#access.hostAllowed(req)) {
      this.#text(res, 421, 'this dashboard answers only to loopback host names\n');
      return;
    }
    const credential = this.#access.credential(req, url);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      if (method === 'POST' && url.pathname === '/login') {
        // Only a page of this dashboard (or a script with no Origin) may trade the token.
        if (credential !== 'bearer' || !this.#access.originAllowed(req, false)) {
          this.#text(res, 401, 'wrong token\n');
          return;
        }
        res.writeHead(204, { ...COMMON_HEADERS, 'Set-Cookie': this.#access.setCookie() });
        res.end();
        return;
      }
      this.#text(res, 405, 'method not allowed\n');
      return;
    }
    if (url.pathname === '/') {
      if (credential === 'query') {
        // `?token=` works too; keep it out of the address bar and the history.
        res.writeHead(303, {
          ...COMMON_HEADERS,
          Location: '/',
          'Set-Cookie': this.#access.setCookie(),
        });
        res.end();
        return;
      }
      if (credential === null) {
        this.#send(res, 401, 'text/html; charset=utf-8', LOGIN_PAGE, LOGIN_CSP);
        return;
      }
      this.#send(res, 200, 'text/html; charset=utf-8', APP_PAGE, APP_CSP);
      return;
    }
    if (credential === null) {
      res.writeHead(401, {
        ...COMMON_HEADERS,
        'Content-Type': 'text/plain; charset=utf-8',
        'WWW-Authenticate': 'Bearer realm="sluice"',
      });
      res.end('this dashboard needs its access token (Authorization: Bearer TOKEN)\n');
      return;
    }
    switch (url.pathname) {
      case '/app.js': {
        const assets = await loadPageAssets();
        this.#send(res, 200, 'text/javascript; charset=utf-8', assets.js);
        return;
      }
      case '/app.css': {
        const assets = await loadPageAssets();
        this.#send(res, 200, 'text/css; charset=utf-8', assets.css);
        return;
      }
      case '/metrics': {
        const text = await this.#metrics.metrics();
        this.#send(res, 200, this.#metrics.contentType, text);
        return;
      }
      case '/api/sessions':
        this.#send(
          res,
          200,
          'application/json',
          JSON.stringify(this.#host.sessions().map((s) => s.info())),
        );
        return;
      case '/api/flows':
        this.#send(res, 200, 'application/json', JSON.stringify(this.flows.list()));
        return;
      default:
        this.#text(res, 404, 'not found\n');
    }
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (!this.#access.hostAllowed(req)) {
      refuse(421, 'Misdirected Request');
      return;
    }
    const credential = this.#access.credential(req, url);
    if (credential === null) {
      refuse(401, 'Unauthorized');
      return;
    }
    // A browser holding the cookie must be on the dashboard's own page; a script with a
    // Bearer token sends no Origin, and one that does must match too.
    if (!this.#access.originAllowed(req, credential !== 'bearer')) {
      refuse(403, 'Forbidden');
      return;
    }
    let bind: ((ws: import('ws').WebSocket) => void) | undefined;
    switch (url.pathname) {
      case '/ws/sessions':
        bind = (ws) => this.#sessionsFeed.add(ws);
        break;
      case '/ws/flows':
        bind = (ws) => this.#flowsFeed.add(ws);
        break;
      case '/ws/term':
        bind = (ws) => {
          const refuse = (e: unknown) => {
            const message = e instanceof Error ? e.message : String(e);
            if (ws.readyState !== ws.OPEN) return;
            ws.send(JSON.stringify({ type: 'end', reason: 'error', message }));
            ws.close(1008, message.slice(0, 120));
          };
          try {
            const request = parseTerminalQuery(url.searchParams);
            const session = this.#host.session(url.searchParams.get('id') ?? '');
            bindTerminal(ws, session, request, this.#log).catch(refuse);
          } catch (e) {
            refuse(e);
          }
        };
        break;
      default: {
        refuse(404, 'Not Found');
        return;
      }
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      bind(ws);
    });
  }

  #text(res: ServerResponse, status: number, body: string): void {
    this.#send(res, status, 'text/plain; charset=utf-8', body);
  }

  #send(
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    csp?: string,
  ): void {
    res.writeHead(status, {
      ...COMMON_HEADERS,
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      ...(csp ? { 'Content-Security-Policy': csp } : {}),
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}
