/**
 * Session ids: random, short and typeable. An id is 10 characters from a 32-letter alphabet
 * (digits and lowercase letters without `i`, `l`, `o`, `u`, which read as other characters), so
 * 50 random bits from the system's CSPRNG: nobody can predict the next id (a spool file named
 * after it cannot be planted in advance), and any unique prefix of it is enough to type.
 * Ids say nothing about time or order; `SessionRegistry.list` keeps creation order itself.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_LENGTH = 10;
const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{10}$/;

/**
 * A new random session id (see the module comment).
 *
 * @example
 * ```ts
 * newSessionId(); // 'k3v9q2m7xa'
 * ```
 */
export function newSessionId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ALPHABET[b & 31];
  return id;
}

/** Whether `id` has the shape `newSessionId` makes (used to reject junk early). */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}
