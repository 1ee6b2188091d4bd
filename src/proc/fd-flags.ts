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
