/**
 * The ownership rules both ends of the local socket apply before trusting it, and the spool
 * applies to its folder. A folder or socket passes only when it belongs to this user and no
 * other user can write to it: otherwise someone else could have made it first, or could swap
 * what is in it, and would then read (or answer) what sluice sends.
 *
 * Each check returns the reason it fails, as one line for an error message, or undefined.
 */
import { lstatSync, type Stats, statSync } from 'node:fs';

const WRITABLE_BY_OTHERS = 0o022;

function mode(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Why the folder `dir` is not safe for this user's socket or spool files, or undefined when it
 * is: it must exist, be a directory (a symlink to one is followed: the folder it names is
 * checked), belong to `uid`, and not be writable by its group or by others.
 */
export function unsafeFolderReason(dir: string, uid: number): string | undefined {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    return `cannot check ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not to this user (uid ${uid})`;
  if ((st.mode & WRITABLE_BY_OTHERS) !== 0) {
    return `${dir} has mode ${mode(st)}: other users can write to it (chmod 700 ${dir})`;
  }
  return undefined;
}

/**
 * Why the socket file at `path` is not this user's daemon socket, or undefined when it could be:
 * it must be a socket itself (not a symlink), belong to `uid` and not be writable by its group
 * or others. A missing file is not this function's business (undefined): connecting reports it.
 */
export function unsafeSocketReason(path: string, uid: number): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : `cannot check ${path}: ${code}`;
  }
  if (st.isSymbolicLink()) return `${path} is a symbolic link, not a socket`;
  if (!st.isSocket()) return `${path} is not a socket`;
  if (st.uid !== uid) return `${path} belongs to uid ${st.uid}, not to this user (uid ${uid})`;
  if ((st.mode & WRITABLE_BY_OTHERS) !== 0) {
    return `${path} has mode ${mode(st)}: other users can connect to it`;
  }
  return undefined;
}
