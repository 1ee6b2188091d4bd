/**
 * Who may use the dashboard. Every request must carry the token, in one of three places:
 * an `Authorization: Bearer TOKEN` header (scripts, `/metrics` scrapers), the cookie the page
 * receives once it has shown the token (browsers), or `?token=TOKEN` on the first page load.
 * The cookie is `HttpOnly` and `SameSite=Strict` and its name carries the port, so two
 * dashboards on one host keep separate cookies.
 *
 * Two more checks stop other web pages from using a browser that holds the cookie: a request
 * whose `Origin` is present must come from the dashboard's own origin (WebSocket upgrades and
 * every non-GET request are refused otherwise), and on a loopback address the `Host` header
 * must name a loopback host (a DNS-rebinding page cannot reach the dashboard under its own name).
 */
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './listen.js';
import { tokenMatches } from './token.js';

/** What a request showed as its credentials. */
export type Credential = 'bearer' | 'cookie' | 'query' | null;

/** Request checks for one running dashboard (see the module comment). */
export class Access {
  readonly token: string;
  readonly cookieName: string;
  readonly #loopback: boolean;

  constructor(token: string, port: number, loopback: boolean) {
    this.token = token;
    this.cookieName = `sluice_dashboard_${port}`;
    this.#loopback = loopback;
  }

  /** Where the request carried a valid token, or null when it carried none that is valid. */
  credential(req: IncomingMessage, url: URL): Credential {
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && /^Bearer /i.test(auth)) {
      return tokenMatches(this.token, auth.slice(7).trim()) ? 'bearer' : null;
    }
    if (tokenMatches(this.token, this.#cookie(req))) return 'cookie';
    if (tokenMatches(this.token, url.searchParams.get('token') ?? undefined)) return 'query';
    return null;
  }

  /** The `Set-Cookie` value that lets the browser keep the token for this browser session. */
  setCookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /**
   * Whether the `Host` header is one this dashboard answers to: any host when it listens on a
   * non-loopback address (the token still decides), else only loopback names.
   */
  hostAllowed(req: IncomingMessage): boolean {
    if (!this.#loopback) return true;
    const host = req.headers.host;
    if (typeof host !== 'string' || host === '') return false;
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    return isLoopbackHost(name);
  }

  /**
   * Whether the request's `Origin` is the dashboard's own (`http://` + its `Host`). With
   * `required`, a request without an `Origin` is refused too (browsers always send one on
   * WebSocket upgrades and POSTs; a script may instead use a Bearer token).
   */
  originAllowed(req: IncomingMessage, required: boolean): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return origin === `http://${req.headers.host}`;
  }

  #cookie(req: IncomingMessage): string | undefined {
    const header = req.headers.cookie;
    if (typeof header !== 'string') return undefined;
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) return part.slice(eq + 1).trim();
    }
    return undefined;
  }
}
