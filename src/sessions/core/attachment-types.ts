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
  | {
      /** Output bytes. */
      type: 'output';
      /** The bytes, in the order the program wrote them; never empty. */
      data: Buffer;
      /** Absolute stream offset of `data[0]` (bytes since the session started). */
      offset: number;
    }
  /**
   * `bytes` bytes of output were dropped from this client's queue because it fell behind;
   * delivery resumes at absolute offset `offset`.
   */
  | {
      /** Output this client skipped. */
      type: 'missed';
      /** How many bytes were skipped. */
      bytes: number;
      /** Absolute stream offset where delivery resumes. */
      offset: number;
    }
  /** The stream reached its end at `offset` (the child and its group closed it). */
  | {
      /** The stream's end. */
      type: 'eof';
      /** Absolute stream offset just past the last byte: the stream's total length. */
      offset: number;
    }
  /**
   * The session's child exited and its output was read to the end. The last frame. `exitState`
   * is deprecated: the same as `exitInfo` with `exitedAt`.
   */
  | {
      /** The session's exit. */
      type: 'exit';
      /** How the program ended. */
      exitInfo: ExitInfo;
      /** When the exit was recorded, in milliseconds since the epoch. */
      exitedAt: number;
      /** @deprecated `exitInfo` and `exitedAt` together; removed in 0.3. */
      exitState: ExitState;
    }
  /** Another client took the writer seat with `steal`. The last frame. */
  | {
      /** The writer seat was stolen. */
      type: 'stolen';
    };

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
