/**
 * Where the sessions daemon listens: the one address both the daemon and its clients compute.
 *
 * The path is `$SLUICE_SOCKET`, else `$XDG_RUNTIME_DIR/sluice/daemon.sock`, else
 * `/tmp/sluice-<uid>/daemon.sock`.
 */

import { join } from 'node:path';

/** The socket path to use, from the environment (see the module comment). */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLUICE_SOCKET) return env.SLUICE_SOCKET;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'sluice', 'daemon.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join('/tmp', `sluice-${uid}`, 'daemon.sock');
}

/** The longest path a Unix socket address holds on Linux (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
