/** HTTP and WebSocket helpers of the dashboard tests: no keep-alive, so nothing lingers. */
import { request } from 'node:http';
import { WebSocket } from 'ws';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on its own connection (closed after the reply). */
export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (t: string) => {
          body += t;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A socket and what it received so far. */
export interface OpenSocket {
  ws: WebSocket;
  got: Collected;
}

/**
 * Opens a WebSocket, collecting its messages from the start (the first may arrive in the same
 * read as the upgrade answer); resolves once open, rejects with the refusal's status.
 */
export function openWs(url: string, headers: Record<string, string> = {}): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const got = collect(ws);
    ws.once('open', () => resolve({ ws, got }));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`refused: ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** A socket's messages: JSON for text, bytes for binary. */
export interface Collected {
  json: Record<string, unknown>[];
  bytes: () => string;
  /** Resolves with the close code. */
  closed: Promise<number>;
}

/** Collects a socket's messages. */
export function collect(ws: WebSocket): Collected {
  const json: Record<string, unknown>[] = [];
  const chunks: Buffer[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) chunks.push(Buffer.from(data as Buffer));
    else json.push(JSON.parse(String(data)) as Record<string, unknown>);
  });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return { json, bytes: () => Buffer.concat(chunks).toString('utf8'), closed };
}

/** Closes a socket and waits for the close to finish. */
export function closeWs(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
  });
}
