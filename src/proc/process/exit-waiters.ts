/**
 * Waiting for a child's exit with a deadline: what a graceful stop does between its signals.
 * Plain callbacks rather than an EventTarget, which is costly. Used by proc's process groups and
 * by the sessions' PTY children.
 */

/**
 * Callers waiting for one event (a child's exit, or a reason to stop waiting), each with its own
 * deadline. `wait(ms)` resolves when `wakeAll()` is called or `ms` pass, whichever comes first;
 * it never rejects, and its timer is cleared either way.
 *
 * @example
 * ```ts
 * const waiters = new ExitWaiters();
 * child.on('exit', () => waiters.wakeAll());
 * process.kill(child.pid, 'SIGTERM');
 * await waiters.wait(graceMs); // exited, or the grace is over
 * ```
 */
export class ExitWaiters {
  readonly #waiters = new Set<() => void>();

  /**
   * Resolves at the next `wakeAll()` or after `ms`. The caller checks first whether the event
   * has already happened: a wait begun after it lasts the whole `ms`.
   */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  /** Ends every wait in progress; later waits are not affected. */
  wakeAll(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}
