/**
 * The dashboard's access token: 32 random bytes, base64url. It is made fresh at every start, so
 * restarting the daemon revokes every browser that held the old one. Compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A new random token (43 URL-safe characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `given` is `token`, compared in constant time; false for anything not a string. */
export function tokenMatches(token: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(token);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
