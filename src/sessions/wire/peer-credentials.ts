/**
 * Who is at the other end of a Unix socket, as the kernel says: `SO_PEERCRED` on Linux,
 * `getpeereid` on macOS, read through koffi (an FFI whose prebuilt binaries ship in its npm
 * package, so no compiler is needed). The kernel records the peer's credentials when the
 * connection is made, so they cannot be forged by what the peer sends.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** The credentials of the process that made (or accepted) the connection. */
export interface PeerCredentials {
  /** The peer's pid (0 where the platform does not say, as on macOS). */
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

type Reader = (fd: number) => PeerCredentials | null;

let reader: Reader | null | undefined;

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

function loadReader(): Reader | null {
  if (reader !== undefined) return reader;
  reader = null;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(path: string): { func(signature: string): (...args: unknown[]) => number };
    };
    if (process.platform === 'linux') {
      const getsockopt = koffi
        .load('libc.so.6')
        .func(
          'int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *length)',
        );
      reader = (fd) => {
        const value = Buffer.alloc(12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        const length = [12];
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, value, length) !== 0) return null;
        return {
          pid: value.readInt32LE(0),
          uid: value.readUInt32LE(4),
          gid: value.readUInt32LE(8),
        };
      };
    } else if (process.platform === 'darwin') {
      const getpeereid = koffi
        .load('libSystem.B.dylib')
        .func('int getpeereid(int fd, _Out_ uint32_t *uid, _Out_ uint32_t *gid)');
      reader = (fd) => {
        const uid = [0];
        const gid = [0];
        if (getpeereid(fd, uid, gid) !== 0) return null;
        return { pid: 0, uid: uid[0]!, gid: gid[0]! };
      };
    }
  } catch {
    // koffi could not load (out of fds, or no prebuilt binary for this platform): the next call
    // tries again, and until then the caller falls back to the socket file's owner.
    reader = undefined;
    return null;
  }
  return reader;
}

/**
 * The credentials of `socket`'s peer, or null where they cannot be read (not a Unix socket, a
 * platform without the call, or koffi unavailable). Never throws.
 */
export function peerCredentials(socket: Socket): PeerCredentials | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  const read = loadReader();
  if (!read) return null;
  try {
    return read(fd);
  } catch {
    return null;
  }
}

/** This process's uid (0 where the platform has none). */
export function ownUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}
