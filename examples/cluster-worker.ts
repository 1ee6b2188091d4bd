/**
 * The worker side of the cluster examples: a module whose default export is a stage's `fn`.
 * Serve it from any machine that can reach the NATS server:
 *
 *   npx sluice worker --servers nats://HOST:4222 --name thumbnails --stage resize \
 *     examples/cluster-worker.ts --workers 2
 *
 * (`npx tsx src/cli/main.ts worker …` from a checkout.) It stops gracefully on SIGTERM or Ctrl-C.
 * `fn` may run twice for one item (after a worker died mid-item): keep its side effects
 * idempotent.
 */

import { createHash } from 'node:crypto';

/** What the coordinator sends. */
export interface ResizeJob {
  id: number;
  width: number;
  /** Simulated I/O: wait this long. */
  waitMs?: number;
  /** Simulated CPU work: burn the CPU this long (wall-clock time). */
  cpuMs?: number;
  /** Simulated CPU work of a fixed size: this many chained SHA-256 digests. */
  spin?: number;
}

/** What comes back. */
export interface ResizeDone {
  id: number;
  width: number;
  /** The worker process that did it. */
  pid: number;
  /** What `spin` computed (so the work cannot be optimised away). */
  checksum?: number;
}

export default async function resize(job: ResizeJob, signal: AbortSignal): Promise<ResizeDone> {
  if (!Number.isInteger(job.width) || job.width <= 0) {
    // A thrown Error comes back to the coordinator as an ok:false result (name, message, code).
    throw Object.assign(new RangeError(`bad width ${job.width}`), { code: 'E_BAD_WIDTH' });
  }
  if (job.waitMs) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, job.waitMs);
      // The signal aborts when the worker is told to stop and the grace has run out.
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
  }
  if (job.cpuMs) {
    const until = performance.now() + job.cpuMs;
    while (performance.now() < until) {}
  }
  if (job.spin) {
    let digest = Buffer.alloc(32, job.id & 0xff);
    for (let i = 0; i < job.spin; i++) digest = createHash('sha256').update(digest).digest();
    return { id: job.id, width: job.width, pid: process.pid, checksum: digest.readUInt32BE(0) };
  }
  return { id: job.id, width: job.width, pid: process.pid };
}
