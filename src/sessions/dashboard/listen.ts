/**
 * Where the dashboard listens: the `--http [HOST:]PORT` value, parsed and checked. Loopback is
 * the default and the only host allowed without `allowRemote`; another host must be asked for
 * explicitly (the daemon then warns that anyone who learns the token can drive its sessions).
 */
import { isIP } from 'node:net';
import { InvalidOptionError } from '../../proc/index.js';

/** A parsed `[HOST:]PORT`. */
export interface ListenAddress {
  /** The host to bind. Default `127.0.0.1`. */
  host: string;
  /** The TCP port; 0 picks a free one. */
  port: number;
}

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Parses `PORT`, `HOST:PORT` or `[IPV6]:PORT` (`8080`, `127.0.0.1:8080`, `[::1]:0`). Throws
 * `InvalidOptionError` (option `http`) for a port outside 0..65535, an empty host, or a host
 * that is not loopback when `allowRemote` is false.
 *
 * @example
 * ```ts
 * parseListenAddress('8080');            // { host: '127.0.0.1', port: 8080 }
 * parseListenAddress('0.0.0.0:8080', { allowRemote: true });
 * ```
 */
export function parseListenAddress(
  spec: string,
  options: { allowRemote?: boolean } = {},
): ListenAddress {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new InvalidOptionError(
      'http',
      'expected [HOST:]PORT, for example 8080 or 127.0.0.1:8080',
    );
  }
  const text = spec.trim();
  let host = '127.0.0.1';
  let portText = text;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':');
    host = text.slice(0, at);
    portText = text.slice(at + 1);
    if (host.includes(':')) {
      throw new InvalidOptionError('http', `write an IPv6 host in brackets: [${host}]:${portText}`);
    }
  }
  if (host === '') throw new InvalidOptionError('http', `'${spec}' has an empty host`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new InvalidOptionError('http', `'${portText}' is not a port from 0 to 65535`);
  }
  if (!isLoopbackHost(host) && options.allowRemote !== true) {
    throw new InvalidOptionError(
      'http',
      `'${host}' is not a loopback address; add --http-allow-remote to serve other machines`,
    );
  }
  return { host, port: Number(portText) };
}

/** `host:port` as it appears in a URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
