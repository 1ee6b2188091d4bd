/**
 * How big the kernel pipes between commands are made by default (`pipeSize: 'auto'`).
 *
 * A pipe's buffer is 64 KiB by default; moving bulk data through 1 MiB pipes takes about a third
 * of the wall time (fewer context switches between writer and reader). The pages are charged to
 * the user: past `/proc/sys/fs/pipe-user-pages-soft` (64 MiB by default) the kernel gives every
 * new pipe of an unprivileged user two pages only, which would slow down everything else that
 * user runs. So enlarged pipes are rationed per process: at most {@link AUTO_BUDGET_BYTES} of
 * them at once, a quarter of the default soft limit; past it, pipes keep the kernel's size.
 */
import { readFileSync } from 'node:fs';

/** The largest size `'auto'` asks for. */
export const AUTO_MAX_BYTES = 1024 * 1024;

/** How many bytes of enlarged pipe buffers this process keeps at once under `'auto'`. */
export const AUTO_BUDGET_BYTES = 16 * 1024 * 1024;

let autoSize: number | undefined;
let inUse = 0;

/** The size `'auto'` enlarges a pipe to: pipe-max-size, at most 1 MiB (0 where unknown). */
export function autoPipeSize(): number {
  if (autoSize === undefined) {
    autoSize = 0;
    if (process.platform === 'linux') {
      try {
        const max = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8').trim());
        if (Number.isSafeInteger(max) && max > 64 * 1024) autoSize = Math.min(max, AUTO_MAX_BYTES);
      } catch {
        // No /proc: keep the kernel's size.
      }
    }
  }
  return autoSize;
}

/**
 * Takes `bytes` from the budget; false (nothing taken) when it would pass it. Every true must be
 * matched by one `releasePipeBytes(bytes)` once the pipe is gone.
 */
export function reservePipeBytes(bytes: number): boolean {
  if (inUse + bytes > AUTO_BUDGET_BYTES) return false;
  inUse += bytes;
  return true;
}

/** Gives back what `reservePipeBytes` took. */
export function releasePipeBytes(bytes: number): void {
  inUse = Math.max(0, inUse - bytes);
}
