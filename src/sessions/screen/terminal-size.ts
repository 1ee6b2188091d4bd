/**
 * The size of the user's terminal, wherever it is reachable: `id=$(sluice spawn --pty …)` runs
 * with stdout captured, `… 2>log` without stderr, a script with stdin redirected; the terminal
 * is still there on another of those, or as the controlling terminal, `/dev/tty`.
 */
import { closeSync, openSync } from 'node:fs';
import { isatty, WriteStream } from 'node:tty';

/** A terminal size in character cells. */
export interface TerminalSize {
  /** Height in character cells. */
  rows: number;
  /** Width in character cells. */
  cols: number;
}

function sizeOfFd(fd: number): TerminalSize | undefined {
  const stream = new WriteStream(fd);
  try {
    const [cols, rows] = stream.getWindowSize();
    return rows && cols && rows > 0 && cols > 0 ? { rows, cols } : undefined;
  } catch {
    return undefined;
  } finally {
    stream.destroy(); // closes fd: always a private one opened below
  }
}

/** Opens `path` (a terminal) on a private fd and reads its size; undefined when it cannot. */
function sizeOfPath(path: string): TerminalSize | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return undefined; // ENXIO: no controlling terminal; ENOENT: no /proc
  }
  if (!isatty(fd)) {
    closeSync(fd);
    return undefined;
  }
  return sizeOfFd(fd);
}

/**
 * The size of the first terminal among stdout, stderr, stdin and `/dev/tty` (the controlling
 * terminal), or undefined when none is one (a daemon, a CI job). Never takes over or closes
 * the process's own stdio: stdin is reopened through `/proc/self/fd/0` (`/dev/fd/0` on macOS).
 *
 * @example
 * ```ts
 * const size = terminalSize() ?? { rows: 24, cols: 80 };
 * ```
 */
export function terminalSize(): TerminalSize | undefined {
  for (const out of [process.stdout, process.stderr]) {
    if (out.isTTY && out.rows > 0 && out.columns > 0) return { rows: out.rows, cols: out.columns };
  }
  if (isatty(0)) {
    const size =
      sizeOfPath(process.platform === 'linux' ? '/proc/self/fd/0' : '/dev/fd/0') ??
      sizeOfPath('/dev/tty');
    if (size) return size;
  }
  return sizeOfPath('/dev/tty');
}
