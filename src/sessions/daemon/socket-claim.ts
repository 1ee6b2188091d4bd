/**
 * How the daemon claims its socket path: the folder is made safe, a live daemon is refused, a
 * stale socket file is removed. (Where the path is: `../wire/socket-path.ts`.)
 *
 * The folder holding it is created mode 0700; a folder sluice
 * names itself (`.../sluice`, `/tmp/sluice-<uid>`) must then be owned by this user and not open
 * to group or others, or the daemon refuses to use it: another user could otherwise have made it
 * first and watch or replace the socket. The socket file is 0600.
 */

import { lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { MAX_SOCKET_PATH_BYTES } from '../wire/socket-path.js';

/** The socket path cannot be used: its folder is unsafe, or a daemon is already there. */
export class SocketPathError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = 'SocketPathError';
    this.path = path;
  }
}

function isOwnFolderName(dir: string): boolean {
  const base = dir.slice(dir.lastIndexOf('/') + 1);
  return base === 'sluice' || base.startsWith('sluice-');
}

/**
 * Makes sure the socket's folder exists with mode 0700 (creating missing parents too). A folder
 * named `sluice` or `sluice-*` that already exists must belong to this user with no group or
 * other access; any other existing folder (say the caller chose `--socket /srv/app/d.sock`) is
 * left as it is, and the socket's own 0600 mode protects it. Throws `SocketPathError`.
 * Returns whether it created the socket's own folder (the daemon removes it again at exit).
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
  if (created || isOwnFolderName(dir)) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    if (st.uid !== uid) {
      throw new SocketPathError(
        socketPath,
        `${dir} belongs to uid ${st.uid}, not to this user (uid ${uid}); refusing to use it`,
      );
    }
    if ((st.mode & 0o077) !== 0) {
      throw new SocketPathError(
        socketPath,
        `${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 700 (chmod 700 ${dir})`,
      );
    }
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
