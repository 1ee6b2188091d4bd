/**
 * The daemon side of one attach stream: turns a library `Attachment`'s frames into protocol
 * stream events, batched so that output already queued goes out in few large writes, and applies
 * the client's stream commands (input, eof, resize, detach) to the session.
 *
 * Guarantees: events leave in stream order; output frames that are contiguous in the stream are
 * joined into one `data` event without being copied; the stream's last event is `end`, after
 * `exit` when the session exited; the attachment's seat is released exactly once, however the
 * stream ends.
 */
import type { Attachment, AttachmentFrame } from '../core/attachment.js';
import type { Session } from '../core/session.js';
import type { StreamCommand, WireSessionInfo } from '../wire/protocol.js';
import type { AttachBinding, OutgoingEvent, ServerConnection } from './connection.js';

/** Why the daemon itself ended an attachment (rather than the session or a steal). */
export type EndReasonByDaemon = 'removed' | 'shutdown' | 'detached';

/** Output gathered into one `data` event at most (from frames already queued). */
const BATCH_BYTES = 1024 * 1024;
/** Below this, a batch waits event-loop turns for more output before it is sent. */
const SMALL_BATCH = 256 * 1024;
/**
 * A small batch waits no longer than this for more (a program writing tiny pieces faster than
 * the loop turns would otherwise keep its output waiting until `SMALL_BATCH`).
 */
const MAX_GATHER_MS = 2;

/**
 * Turns one non-output library frame into the stream events it stands for. An exit is always
 * sent before the stream's end; the end says `shutdown` when the daemon's shutdown is what
 * ended the session, `exited` otherwise.
 */
export function controlEvents(
  frame: Exclude<AttachmentFrame, { type: 'output' }>,
  endReason?: EndReasonByDaemon,
): OutgoingEvent[] {
  switch (frame.type) {
    case 'missed':
      return [{ ev: 'missed', bytes: frame.bytes, offset: frame.offset }];
    case 'eof':
      return [{ ev: 'eof', offset: frame.offset }];
    case 'exit':
      return [
        { ev: 'exit', exitInfo: { ...frame.exitInfo }, exitedAt: frame.exitedAt },
        { ev: 'end', reason: endReason === 'shutdown' ? 'shutdown' : 'exited' },
      ];
    case 'stolen':
      return [{ ev: 'end', reason: 'stolen', message: 'another client attached with steal' }];
  }
}

/** What `bindAttachment` needs to know about the attachment and its daemon. */
export interface AttachmentBindingInit {
  session: Session;
  attachment: Attachment;
  /** A drawing of the screen in pieces, sent before the backlog (none for a raw replay). */
  screen?: readonly Uint8Array[];
  /** The session as the attach answer describes it. */
  info: WireSessionInfo;
  conn: ServerConnection;
  log(line: string): void;
  /** The reason the daemon chose for ending this attachment, if it did. */
  endReason(): EndReasonByDaemon | undefined;
  setEndReason(reason: EndReasonByDaemon): void;
  /** Called once when the seat is released. */
  forget(): void;
}

/** Gathers events from an attachment: one frame awaited, then whatever else is queued. */
class EventBatcher {
  finished = false;
  readonly #attachment: Attachment;
  readonly #it: AsyncIterator<AttachmentFrame>;
  readonly #endReason: () => EndReasonByDaemon | undefined;

  constructor(attachment: Attachment, endReason: () => EndReasonByDaemon | undefined) {
    this.#attachment = attachment;
    this.#it = attachment[Symbol.asyncIterator]();
    this.#endReason = endReason;
  }

  /** The next batch (waiting for at least one frame); undefined once the stream is over. */
  async next(): Promise<OutgoingEvent[] | undefined> {
    if (this.finished) return undefined;
    const first = await this.#it.next();
    if (first.done) {
      this.finished = true;
      // The iteration stopped without exit or steal: the daemon detached it.
      return [{ ev: 'end', reason: this.#endReason() ?? 'detached' }];
    }
    const batch = new Batch();
    this.#add(batch, first.value);
    const since = performance.now();
    for (let turn = 0; ; turn++) {
      const before = batch.bytes;
      while (!this.finished && batch.bytes < BATCH_BYTES) {
        const frame = this.#attachment.read();
        if (frame === undefined) break;
        this.#add(batch, frame);
      }
      // A small batch waits a turn of the event loop for the reads already under way, and
      // more turns while each brings more output: during a flood the writes (and the client's
      // wake-ups) are few and large, and output that stops is sent after one empty turn.
      if (this.finished || batch.bytes >= SMALL_BATCH) break;
      if (turn > 0 && (batch.bytes === before || performance.now() - since > MAX_GATHER_MS)) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    return batch.events;
  }

  #add(batch: Batch, frame: AttachmentFrame): void {
    if (frame.type === 'output') {
      batch.addOutput(frame.data, frame.offset);
      return;
    }
    batch.cut();
    for (const ev of controlEvents(frame, this.#endReason())) {
      batch.events.push(ev);
      if (ev.ev === 'end') this.finished = true;
    }
  }
}

/** Events being gathered; contiguous output joins the open `data` event. */
class Batch {
  readonly events: OutgoingEvent[] = [];
  bytes = 0;
  #data: Extract<OutgoingEvent, { ev: 'data' }> | undefined;

  addOutput(data: Buffer, offset: number): void {
    this.bytes += data.length;
    const open = this.#data;
    if (open && open.offset + open.length === offset) {
      // Pieces that lie end to end in memory too become one, so the socket write has few.
      const parts = open.parts;
      const prev = parts[parts.length - 1]!;
      if (prev.buffer === data.buffer && prev.byteOffset + prev.byteLength === data.byteOffset) {
        parts[parts.length - 1] = Buffer.from(
          prev.buffer,
          prev.byteOffset,
          prev.byteLength + data.length,
        );
      } else parts.push(data);
      open.length += data.length;
      return;
    }
    this.#data = { ev: 'data', parts: [data], length: data.length, offset };
    this.events.push(this.#data);
  }

  /** A control event follows: later output starts a new `data` event. */
  cut(): void {
    this.#data = undefined;
  }
}

/** Applies one stream command from the client to the attachment. */
function applyCommand(init: AttachmentBindingInit, c: StreamCommand): void {
  const { attachment, conn, session } = init;
  switch (c.op) {
    case 'detach':
      init.setEndReason('detached');
      void attachment.detach();
      return;
    case 'input':
      attachment.write(c.data).catch((e: unknown) => {
        init.log(`session ${session.id}: input from connection ${conn.id} failed: ${String(e)}`);
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
}

/** The `AttachBinding` a connection pumps for one attachment (see the module comment). */
export function bindAttachment(init: AttachmentBindingInit): AttachBinding {
  const { attachment } = init;
  // The drawing's pieces and the backlog go out as they are, never joined into one buffer.
  const screen = init.screen ?? [];
  let screenBytes = 0;
  for (const p of screen) screenBytes += p.byteLength;
  const backlog = screenBytes > 0 ? [...screen, attachment.backlog] : [attachment.backlog];
  const backlogBytes = screenBytes + attachment.backlog.byteLength;
  const batcher = new EventBatcher(attachment, init.endReason);
  let released = false;
  return {
    result: {
      session: init.info,
      stream: attachment.stream,
      readOnly: attachment.readOnly,
      missedBytes: attachment.missedBytes,
      backlogOffset: attachment.backlogOffset,
      backlogBytes,
      screenBytes,
    },
    backlog,
    backlogBytes,
    backlogOffset: attachment.backlogOffset,
    next: () => batcher.next(),
    command: (c: StreamCommand) => applyCommand(init, c),
    release: () => {
      if (released) return;
      released = true;
      void attachment.detach();
      init.forget();
    },
  };
}
