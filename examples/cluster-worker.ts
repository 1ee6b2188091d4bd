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

/** What the coordinator sends. */
export interface ResizeJob {
  id: number;
  width: number;
  /** Simulated I/O: wait this long. */
  waitMs?: number;
  /** Simulated CPU work: burn the CPU this long (wall-clock time). */
  cpuMs?: number;
  /**
   * Simulated CPU work of a fixed size: this many rounds of an integer hash (pure computation:
   * no allocation, so no garbage collector threads take a second core).
   */
  spin?: number;
  /**
   * Simulated CPU work of a fixed CPU time: an integer hash until the process has used this many
   * more milliseconds of CPU. Unlike `spin`, its cost does not depend on how well the JIT compiled
   * the loop in this process, and unlike `cpuMs` it does not stretch when other work shares the
   * core.
   */
  cpuTimeMs?: number;
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

/**
 * This process's CPU time (ms), from getrusage: exact at every call (the kernel counts the running
 * thread up to now), where /proc's per-thread counters move only at scheduler ticks.
 */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
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
  if (job.cpuTimeMs) {
    const until = processCpuMs() + job.cpuTimeMs;
    let h = job.id | 0;
    do {
      for (let i = 0; i < 20_000; i++) h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
    } while (processCpuMs() < until);
    return { id: job.id, width: job.width, pid: process.pid, checksum: h >>> 0 };
  }
  if (job.spin) {
    let h = job.id | 0;
    for (let i = 0; i < job.spin; i++) h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
    return { id: job.id, width: job.width, pid: process.pid, checksum: h >>> 0 };
  }
  return { id: job.id, width: job.width, pid: process.pid };
}
