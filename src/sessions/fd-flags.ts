/**
 * Marking an fd close-on-exec. node-pty's master fd is not (forkpty makes it without
 * O_CLOEXEC), so every child spawned afterwards — pipe sessions, other PTYs, anything this
 * process starts — would inherit a copy: the PTY would outlive its session and its processes
 * would never see the hang-up. Node has no fcntl, so this calls libc's through koffi, the FFI the
 * OS layer already uses (prebuilt, no compiler).
 */
import { createRequire } from 'node:module';

const F_SETFD = 2;
const FD_CLOEXEC = 1;

let fcntl: ((fd: number, cmd: number, arg: number) => number) | null | undefined;

function load(): typeof fcntl {
  if (fcntl !== undefined) return fcntl;
  fcntl = null;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(path: string): { func(signature: string): (...args: unknown[]) => number };
    };
    const lib =
      process.platform === 'darwin' ? koffi.load('libSystem.B.dylib') : koffi.load('libc.so.6');
    const f = lib.func('int fcntl(int fd, int cmd, int arg)');
    fcntl = (fd, cmd, arg) => f(fd, cmd, arg);
  } catch {
    fcntl = null;
  }
  return fcntl;
}

/** Sets FD_CLOEXEC on `fd`. Returns false where it could not (no koffi): the fd still works. */
export function setCloseOnExec(fd: number): boolean {
  const f = load();
  if (!f) return false;
  return f(fd, F_SETFD, FD_CLOEXEC) === 0;
}
