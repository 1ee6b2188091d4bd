/**
 * The data types and limits of attachments: the frames a client receives and the options of
 * `Session.attach`.
 */

import type { ExitInfo } from '../../proc/index.js';
import type { ExitState } from './types.js';

/** Largest output frame handed to a client; bigger chunks are split. */
export const MAX_OUTPUT_FRAME_BYTES = 64 * 1024;

/** The default bound of one attachment's queue of undelivered output. */
export const DEFAULT_ATTACH_QUEUE_BYTES = 1024 * 1024;

/** What an attachment delivers, in stream order. */
export type AttachmentFrame =
  /** Output bytes; `offset` is the absolute stream offset of `data[0]`. */
  | { type: 'output'; data: Buffer; offset: number }
  /**
   * `bytes` bytes of output were dropped from this client's queue because it fell behind;
   * delivery resumes at absolute offset `offset`.
   */
  | { type: 'missed'; bytes: number; offset: number }
  /** The stream reached its end at `offset` (the child and its group closed it). */
  | { type: 'eof'; offset: number }
  /**
   * The session's child exited and its output was read to the end. The last frame. `exitState`
   * is deprecated: the same as `exitInfo` with `exitedAt`.
   */
  | { type: 'exit'; exitInfo: ExitInfo; exitedAt: number; exitState: ExitState }
  /** Another client took the writer seat with `steal`. The last frame. */
  | { type: 'stolen' };

/** Options of `Session.attach`. */
export interface AttachOptions {
  /**
   * Take the writer seat from whoever holds it; they get a `stolen` frame and end.
   * @default false
   */
  steal?: boolean;
  /**
   * Watch only: never takes the writer seat, cannot write or resize. Any number may watch.
   * @default false
   */
  readOnly?: boolean;
  /**
   * Absolute offset to replay the backlog from. Give a previous attachment's `position` to get
   * only what it had not delivered.
   * @default the oldest byte the ring keeps
   */
  fromOffset?: number;
  /**
   * Bound of this client's queue of undelivered output, in bytes.
   * @default the registry's `maxAttachQueueBytes` (1 MiB)
   */
  maxQueueBytes?: number;
  /**
   * Never drop output for this client. While its queue holds `maxQueueBytes` or more, the
   * session stops reading its program's output (the program then blocks on its pipe or terminal
   * once the kernel's buffer is full, as it would writing into a plain pipe), and reads again
   * once the queue is down to half. Every byte then arrives and `missed` is never sent for the
   * live part (bytes the ring had dropped before the attach still count in `missedBytes`). The
   * price: the program runs at this client's pace, and so do the ring and every other client of
   * the stream. Detaching, a steal or the session's end lifts the hold at once.
   * @default false (a client that falls behind loses its oldest queued output, counted)
   */
  lossless?: boolean;
}
