/** This process's open file descriptors, for leak checks and diagnostics. */
import { readdirSync, readlinkSync } from 'node:fs';

/** One open fd and what it points at (`pipe:[…]`, `socket:[…]`, a path, …). */
export interface OpenFd {
  fd: number;
  target: string;
}

const fdDir = process.platform === 'linux' ? '/proc/self/fd' : '/dev/fd';

/**
 * Lists this process's open fds. The fd used to read the directory itself is left out (it is
 * closed again by the time this returns).
 */
export function openFds(): OpenFd[] {
  const out: OpenFd[] = [];
  for (const name of readdirSync(fdDir)) {
    const fd = Number(name);
    let target: string;
    try {
      target = readlinkSync(`${fdDir}/${name}`);
    } catch {
      continue; // the directory fd itself, already closed
    }
    out.push({ fd, target });
  }
  return out.sort((a, b) => a.fd - b.fd);
}

/** How many fds this process has open. */
export function countOpenFds(): number {
  return openFds().length;
}

/** What `fd` points at, or undefined if it is not open. */
export function fdTarget(fd: number): string | undefined {
  try {
    return readlinkSync(`${fdDir}/${fd}`);
  } catch {
    return undefined;
  }
}
