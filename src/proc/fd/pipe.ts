/**
 * Real kernel pipes for child processes.
 *
 * Node has no `pipe(2)`: `stdio: 'pipe'` gives a socketpair, on which a writer whose reader has
 * gone gets ECONNRESET instead of dying of SIGPIPE, and `/dev/stdin` cannot be reopened. sluice
 * calls libc's `pipe2` through koffi, an FFI whose prebuilt binaries ship inside its npm
 * packages, so no compiler is needed on the user's machine (about 10 µs a pipe). Where koffi
 * cannot load, it falls back to a FIFO made in a private temp dir and unlinked at once: the same
 * kernel pipe object, but `/proc/self/fd/N` then names the deleted path instead of `pipe:[…]`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipeCreateError } from '../errors.js';
import {
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  loadNative,
  type Native,
  nativeLoadTransientError,
} from './native.js';

/** Which mechanism makes pipes in this process. */
export type PipeBackend = 'pipe2' | 'fifo';

/**
 * One kernel pipe. Both fds are blocking and close-on-exec in this process, so a child gets them
 * only where they are named in its `stdio`. The owner must close both sides: close them right
 * after spawning the children that use them, or the reader never sees EOF and the writer never
 * gets SIGPIPE. Closing is idempotent.
 */
export interface PipePair extends Disposable {
  /** The read end, or -1 once closed. */
  readonly readFd: number;
  /** The write end, or -1 once closed. */
  readonly writeFd: number;
  closeRead(): void;
  closeWrite(): void;
  /** Closes whatever side is still open. */
  close(): void;
}

/** The mechanism `createPipe` uses here: `pipe2` through koffi, or the FIFO fallback. */
export function pipeBackend(): PipeBackend {
  return loadNative() ? 'pipe2' : 'fifo';
}

class Pair implements PipePair {
  #read: number;
  #write: number;
  constructor(readFd: number, writeFd: number) {
    this.#read = readFd;
    this.#write = writeFd;
  }
  get readFd(): number {
    return this.#read;
  }
  get writeFd(): number {
    return this.#write;
  }
  closeRead(): void {
    if (this.#read < 0) return;
    const fd = this.#read;
    this.#read = -1;
    closeSync(fd);
  }
  closeWrite(): void {
    if (this.#write < 0) return;
    const fd = this.#write;
    this.#write = -1;
    closeSync(fd);
  }
  close(): void {
    try {
      this.closeRead();
    } finally {
      this.closeWrite();
    }
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Creates `count` pipes at once: all of them, or none (a failure closes those already made and
 * throws `PipeCreateError`). With `size`, each pipe's kernel buffer is enlarged with
 * F_SETPIPE_SZ where the system allows (Linux; silently kept otherwise).
 */
export function createPipes(count: number, options: { size?: number } = {}): PipePair[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new PipeCreateError(`pipe count must be a non-negative integer, got ${count}`);
  }
  if (count === 0) return [];
  const lib = loadNative();
  if (!lib) {
    const errno = nativeLoadTransientError();
    // Out of fds: the FIFO fallback would need fds and a helper process too.
    if (errno) {
      throw new PipeCreateError(`cannot create a pipe: ${errno}${describeErrno(errno)}`, {
        errno,
      });
    }
  }
  const pairs = lib ? viaPipe2(lib, count) : viaFifo(count);
  if (options.size !== undefined && lib && process.platform === 'linux') {
    for (const p of pairs) lib.fcntl(p.writeFd, F_SETPIPE_SZ, options.size);
  }
  return pairs;
}

/** One pipe; see `createPipes`. */
export function createPipe(options: { size?: number } = {}): PipePair {
  return createPipes(1, options)[0]!;
}

/**
 * The kernel buffer size of the pipe behind `fd`, or undefined where it cannot be read (no
 * koffi, not Linux, not a pipe).
 */
export function pipeBufferSize(fd: number): number | undefined {
  const lib = loadNative();
  if (!lib || process.platform !== 'linux') return undefined;
  const size = lib.fcntl(fd, F_GETPIPE_SZ, 0);
  return size > 0 ? size : undefined;
}

function viaPipe2(lib: Native, count: number): PipePair[] {
  const pairs: PipePair[] = [];
  for (let i = 0; i < count; i++) {
    const fds = [-1, -1];
    if (lib.pipe(fds) !== 0) {
      const errno = errnoName(lib.errno());
      for (const p of pairs) p.close();
      throw new PipeCreateError(`cannot create a pipe: ${errno}${describeErrno(errno)}`, {
        errno,
      });
    }
    pairs.push(new Pair(fds[0]!, fds[1]!));
  }
  return pairs;
}

/**
 * The fallback: every FIFO of the batch is made by one `mkfifo` call in a private 0700 dir, then
 * opened read-write (which never blocks), write-only and read-only, and the read-write end is
 * closed. The dir is removed before returning, whatever happens.
 */
function viaFifo(count: number): PipePair[] {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pipe-'));
  const pairs: PipePair[] = [];
  try {
    const names = Array.from({ length: count }, (_, i) => join(dir, `p${i}`));
    execFileSync('mkfifo', ['-m', '600', ...names], { stdio: 'ignore' });
    for (const name of names) {
      const rw = openSync(name, constants.O_RDWR);
      try {
        const w = openSync(name, constants.O_WRONLY);
        let r: number;
        try {
          r = openSync(name, constants.O_RDONLY);
        } catch (e) {
          closeSync(w);
          throw e;
        }
        pairs.push(new Pair(r, w));
      } finally {
        closeSync(rw);
      }
    }
    return pairs;
  } catch (cause) {
    for (const p of pairs) p.close();
    const errno = (cause as NodeJS.ErrnoException)?.code;
    throw new PipeCreateError(`could not create a FIFO pipe: ${String(cause)}`, {
      cause,
      ...(errno === undefined ? {} : { errno }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The symbolic name of an errno value (`24` → `'EMFILE'`), or `'errno N'` when unknown. */
function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

function describeErrno(name: string): string {
  if (name === 'EMFILE') return ' (too many open files in this process)';
  if (name === 'ENFILE') return ' (too many open files in the system)';
  return '';
}
