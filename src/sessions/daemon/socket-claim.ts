/**
 * How the daemon claims its socket path: the folder is made safe, a live daemon is refused, a
 * stale socket file is removed. (Where the path is: `../wire/socket-path.ts`.)
 *
 * The folder holding the socket is created mode 0700. Any folder, made now or found, must belong
 * to this user and not be writable by others, or the daemon refuses it (clients refuse it too,
 * see `../wire/socket-trust.ts`): another user could otherwise have made it first and watch or
 * replace the socket. A folder sluice names itself (`.../sluice`, `/tmp/sluice-<uid>`) must
 * moreover be closed to group and others entirely. The socket file is 0600.
 */

import { lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { SessionsError } from '../core/errors.js';
import { ownUid } from '../wire/peer-credentials.js';
import { MAX_SOCKET_PATH_BYTES } from '../wire/socket-path.js';
import { unsafeFolderReason } from '../wire/socket-trust.js';

/**
 * The socket path cannot be used (`ERR_SLUICE_DAEMON_SOCKET_PATH`): its folder is unsafe, the
 * path is too long, something else is there, or a daemon already listens there.
 */
export class SocketPathError extends SessionsError {
  /** The socket path that could not be used. */
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_SLUICE_DAEMON_SOCKET_PATH', message);
    this.path = path;
  }
}

function isOwnFolderName(dir: string): boolean {
  const base = dir.slice(dir.lastIndexOf('/') + 1);
  return base === 'sluice' || base.startsWith('sluice-');
}

/**
 * Makes sure the socket's folder exists with mode 0700 (creating missing parents too) and is
 * safe (see the module comment). Throws `SocketPathError`. Returns whether it created the
 * socket's own folder (the daemon removes it again at exit).
 */
export function prepareSocketDir(socketPath: string): boolean {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new SocketPathError(
      socketPath,
      `socket path is ${Buffer.byteLength(socketPath)} bytes; a Unix socket path holds at most ${MAX_SOCKET_PATH_BYTES}`,
    );
  }
  const dir = dirname(socketPath);
  let created = false;
  try {
    statSync(dir);
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    created = true;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new SocketPathError(socketPath, `${dir} is not a directory`);
  }
  const uid = ownUid();
  const unsafe = unsafeFolderReason(dir, uid);
  if (unsafe) throw new SocketPathError(socketPath, `refusing the socket folder: ${unsafe}`);
  if ((created || isOwnFolderName(dir)) && (st.mode & 0o077) !== 0) {
    throw new SocketPathError(
      socketPath,
      `${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 700 (chmod 700 ${dir})`,
    );
  }
  return created;
}

/** What is at a socket path before the daemon binds it. */
export type SocketProbe = 'absent' | 'live' | 'stale';

/**
 * Finds out whether something answers at `socketPath`: `'live'` when a connect succeeds,
 * `'stale'` when a socket file is there but nobody accepts (ECONNREFUSED), `'absent'` when there
 * is no file. Throws `SocketPathError` when the path is something other than a socket.
 */
export async function probeSocket(socketPath: string, timeoutMs = 1000): Promise<SocketProbe> {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(socketPath);
  } catch {
    return 'absent';
  }
  if (!st.isSocket()) {
    throw new SocketPathError(
      socketPath,
      `${socketPath} exists and is not a socket; not touching it`,
    );
  }
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const timer = setTimeout(() => finish('live'), timeoutMs);
    function finish(result: SocketProbe) {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      resolve(result);
    }
    sock.once('connect', () => finish('live'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      // ECONNREFUSED: the file is there, no one listens. ENOENT: it went away meanwhile.
      finish(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? 'stale' : 'live');
    });
  });
}

/**
 * Readies `socketPath` for a daemon to bind: prepares the folder, refuses with
 * `SocketPathError` when a live daemon answers there, and removes a stale socket file. Resolves
 * with whether it created the socket's folder.
 */
export async function claimSocketPath(socketPath: string): Promise<boolean> {
  const createdDir = prepareSocketDir(socketPath);
  const probe = await probeSocket(socketPath);
  if (probe === 'live') {
    throw new SocketPathError(
      socketPath,
      `a daemon is already listening on ${socketPath}; stop it first, or choose another path with --socket`,
    );
  }
  if (probe === 'stale') {
    try {
      unlinkSync(socketPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return createdDir;
}
