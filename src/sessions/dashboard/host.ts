/**
 * What the dashboard needs from the daemon: its sessions, and stop and remove done the way the
 * daemon does them for its own clients (so a CLI attachment of a session removed from the
 * browser is told `removed`, as it would be for `sluice rm`).
 */
import type { SessionRegistry } from '../core/registry.js';
import type { Session } from '../core/session.js';

/** The daemon's side of the dashboard. */
export interface DashboardHost {
  /** The sessions, oldest first. */
  sessions(): Session[];
  /** The session with this id; throws the registry's `SessionNotFoundError` otherwise. */
  session(id: string): Session;
  /** Stops a running session (soft signal, then SIGKILL after the daemon's grace). */
  stop(id: string): Promise<void>;
  /** Removes a session; a running one is stopped at once and then removed. */
  remove(id: string): Promise<void>;
}

/**
 * A host over a bare registry, for programs that run a registry without the daemon (and for
 * tests): stop is `terminate()` with the default grace, remove forces.
 */
export function registryHost(registry: SessionRegistry): DashboardHost {
  return {
    sessions: () => registry.list(),
    session: (id) => registry.resolve(id),
    stop: async (id) => {
      void registry.resolve(id).terminate();
    },
    remove: async (id) => {
      await registry.remove(registry.resolve(id).id, { force: true });
    },
  };
}
