/** File-descriptor flags Node cannot set itself. */
import { F_SETFD, FD_CLOEXEC, loadNative } from './native.js';

/**
 * Marks `fd` close-on-exec, so children spawned later do not inherit it (node-pty's master fd,
 * for one, is made without it). Returns false where it could not (no koffi); the fd still works.
 */
export function setCloseOnExec(fd: number): boolean {
  const lib = loadNative();
  if (!lib) return false;
  return lib.fcntl(fd, F_SETFD, FD_CLOEXEC) === 0;
}

const F_DUPFD_CLOEXEC = 1030;

/**
 * A close-on-exec duplicate of `fd` (numbered 3 or above), or undefined where it cannot be made
 * (no koffi, or the call failed). The caller owns and must close the new fd.
 */
export function dupFd(fd: number): number | undefined {
  const lib = loadNative();
  if (!lib) return undefined;
  const copy = lib.fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return copy >= 0 ? copy : undefined;
}
