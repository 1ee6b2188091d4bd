/**
 * `/ws/term`: one browser terminal (or a pipe session's text view) attached to one stream of a
 * session, for as long as its socket is open: closing the tab closes the socket, and that
 * detaches. Query: `id`, `stream` (`stdout` | `stderr`, default stdout), `mode` (`view`, the
 * default, a read-only viewer beside the writer; or `write`, the writer's seat), `steal=1` to take
 * the seat from whoever holds it, `rows` and `cols` (a writer's terminal size, applied first).
 *
 * Server → page: first `{ type: 'attached', session, stream, readOnly, missedBytes, screen }`,
 * then binary messages: for a PTY session a drawing of its screen (from the session's screen
 * model: modes, both buffers, scrollback, never a terminal query; reflowed for a viewer whose
 * terminal has another size), else the raw backlog; then live output from exactly where the
 * drawing or backlog ends; and `{ type: 'missed', bytes }`,
 * `{ type: 'eof' }`, `{ type: 'exit', exit }` (exit code, signal, outcome, exitedAt), `{ type: 'end', reason, message? }` as they
 * happen. Page → server: binary input (writers only) and `{ type: 'resize', rows, cols }`.
 *
 * A page that reads slowly loses output, never the daemon's memory: once more than
 * `HIGH_WATER` bytes wait in the socket the attachment is paused, so its bounded queue drops the
 * oldest output and the page is told how much it missed.
 */
import type { RawData, WebSocket } from 'ws';
import type { Attachment, AttachmentFrame } from '../core/attachment.js';
import type { Session } from '../core/session.js';
import type { StreamName } from '../core/types.js';

const HIGH_WATER = 1024 * 1024;

/** Sends one JSON control message to the page. */
type Control = (m: Record<string, unknown>) => void;

/** What the page asked for in the socket's URL. */
export interface TerminalRequest {
  stream: StreamName;
  write: boolean;
  steal: boolean;
  size: { rows: number; cols: number } | undefined;
}

/** Reads the socket URL's query; throws an Error with one clear message on bad values. */
export function parseTerminalQuery(q: URLSearchParams): TerminalRequest {
  const stream = q.get('stream') ?? 'stdout';
  if (stream !== 'stdout' && stream !== 'stderr')
    throw new Error('stream must be stdout or stderr');
  const mode = q.get('mode') ?? 'view';
  if (mode !== 'view' && mode !== 'write') throw new Error('mode must be view or write');
  const rows = q.get('rows');
  const cols = q.get('cols');
  let size: TerminalRequest['size'];
  if (rows !== null || cols !== null) {
    const r = Number(rows);
    const c = Number(cols);
    if (!Number.isInteger(r) || !Number.isInteger(c) || r < 1 || c < 1 || r > 1000 || c > 1000) {
      throw new Error('rows and cols must be integers from 1 to 1000');
    }
    size = { rows: r, cols: c };
  }
  return { stream, write: mode === 'write', steal: q.get('steal') === '1', size };
}

/**
 * Attaches `ws` to `session` as `req` asks. Rejects (with nothing attached) with what
 * `Session.attachScreen` throws: the caller closes the socket with that message. A socket that
 * closed while the drawing was being made is detached at once.
 */
export async function bindTerminal(
  ws: WebSocket,
  session: Session,
  req: TerminalRequest,
  log: (line: string) => void,
): Promise<void> {
  if (req.write && req.size && session.kind === 'pty' && !session.hasExited) {
    // The drawing should match the browser's terminal: resize before taking it.
    session.resize(req.size.rows, req.size.cols);
  }
  const { attachment: a, screen } = await session.attachScreen(req.stream, {
    readOnly: !req.write,
    steal: req.steal,
    ...(req.size && !req.write ? req.size : {}),
  });
  if (ws.readyState !== ws.OPEN) {
    a.detach();
    return;
  }
  const control: Control = (m) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const send = pacedSender(ws, a);
  control({
    type: 'attached',
    session: session.info(),
    stream: req.stream,
    readOnly: a.readOnly,
    missedBytes: screen.length > 0 ? 0 : a.missedBytes,
    screen: screen.length > 0,
  });
  if (screen.length > 0) send(screen);
  if (a.backlog.length > 0) send(a.backlog);
  a.on('frame', (f: AttachmentFrame) => frameToPage(f, send, control));
  a.on('end', () => {
    if (ws.readyState === ws.OPEN) ws.close(1000, a.stolen ? 'stolen' : 'ended');
  });
  ws.on('message', (data, isBinary) => fromPage(data, isBinary, a, session, control));
  ws.on('close', () => {
    a.detach();
    log(`dashboard: ${req.write ? 'writer' : 'viewer'} left session ${session.id}`);
  });
  log(`dashboard: ${req.write ? 'writer' : 'viewer'} attached to session ${session.id}`);
}

/**
 * A binary sender that pauses the attachment once more than `HIGH_WATER` bytes wait in the
 * socket and resumes it at half: a slow page loses output (counted), never the daemon's memory.
 */
function pacedSender(ws: WebSocket, a: Attachment): (data: Buffer) => void {
  let unsent = 0;
  return (data) => {
    if (ws.readyState !== ws.OPEN) return;
    unsent += data.length;
    ws.send(data, { binary: true }, () => {
      unsent -= data.length;
      if (unsent <= HIGH_WATER / 2 && !a.closed) a.resume();
    });
    if (unsent > HIGH_WATER) a.pause();
  };
}

/** One attachment frame to the page: output as a binary message, the rest as control messages. */
function frameToPage(f: AttachmentFrame, send: (data: Buffer) => void, control: Control): void {
  switch (f.type) {
    case 'output':
      send(f.data);
      return;
    case 'missed':
      control({ type: 'missed', bytes: f.bytes });
      return;
    case 'eof':
      control({ type: 'eof' });
      return;
    case 'exit':
      // `exitState` is the exit record and its time in one, in every protocol version.
      control({ type: 'exit', exit: f.exitState });
      return;
    case 'stolen':
      control({ type: 'end', reason: 'stolen', message: 'another client took the writer role' });
      return;
  }
}

/** One message from the page: input bytes (writers only) or a resize; anything else is ignored. */
function fromPage(
  data: RawData,
  isBinary: boolean,
  a: Attachment,
  session: Session,
  control: Control,
): void {
  if (isBinary) {
    if (a.readOnly) {
      control({ type: 'error', message: 'read-only: take the writer role to type' });
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    a.write(bytes).catch((e: unknown) =>
      control({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return;
  }
  let m: { type?: unknown; rows?: unknown; cols?: unknown };
  try {
    m = JSON.parse(String(data)) as typeof m;
  } catch {
    return;
  }
  if (m.type === 'resize' && !a.readOnly && session.kind === 'pty' && !session.hasExited) {
    const rows = Number(m.rows);
    const cols = Number(m.cols);
    if (Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1) {
      try {
        a.resize(Math.min(rows, 1000), Math.min(cols, 1000));
      } catch (e) {
        control({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}
