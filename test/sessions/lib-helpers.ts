/** Helpers of the sessions library tests. */
import { readStat } from '../../src/proc/index.js';
import type { Attachment, AttachmentFrame, Session, StreamName } from '../../src/sessions/index.js';
import { waitFor } from '../helpers/wait.js';

/** Collects every frame until the attachment ends. */
export async function allFrames(a: Attachment): Promise<AttachmentFrame[]> {
  const out: AttachmentFrame[] = [];
  for await (const f of a) out.push(f);
  return out;
}

/** The output bytes of a list of frames, concatenated. */
export function outputOf(frames: AttachmentFrame[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => (f.type === 'output' ? [f.data] : [])));
}

/** Waits until `stream`'s backlog holds `text`. */
export function waitForText(
  s: Session,
  text: string,
  stream: StreamName = 'stdout',
  timeoutMs = 10000,
): Promise<boolean> {
  return waitFor(() => s.snapshot(stream).data.includes(text), {
    timeoutMs,
    message: `session ${s.id} ${stream} never showed ${JSON.stringify(text)}`,
  });
}

/** Whether a pid names no running process (gone, or a zombie awaiting its reaper). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = readStat(pid);
  return stat === undefined || stat.state === 'Z';
}
