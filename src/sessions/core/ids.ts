/**
 * Session ids: short, URL- and shell-safe, and sorting by creation. An id is the creation time in
 * milliseconds (base 36, 9 digits: fixed width until the year 5188) and a sequence number (base
 * 36, 4 digits), so plain string order is creation order across pipe and PTY sessions alike,
 * within this process and across daemon restarts. The clock going backwards never breaks the
 * order: a time earlier than the last id's reuses the last time and bumps the sequence.
 */

const TIME_WIDTH = 9;
const SEQ_WIDTH = 4;
const SEQ_LIMIT = 36 ** SEQ_WIDTH;

let lastTime = 0;
let seq = 0;

/** A new session id, strictly greater (as a string) than every id this process made before. */
export function newSessionId(now: number = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    seq = 0;
  } else {
    seq += 1;
    if (seq >= SEQ_LIMIT) {
      // 1.6 million ids in one millisecond: borrow the next millisecond.
      lastTime += 1;
      seq = 0;
    }
  }
  return `${lastTime.toString(36).padStart(TIME_WIDTH, '0')}-${seq
    .toString(36)
    .padStart(SEQ_WIDTH, '0')}`;
}

/** Whether `id` has the shape `newSessionId` makes (used to reject junk early). */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && /^[0-9a-z]{9}-[0-9a-z]{4}$/.test(id);
}
