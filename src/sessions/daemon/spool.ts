/**
 * `sluice daemon --log-dir DIR`: every output stream of every session the daemon spawns is also
 * written, byte for byte, to `DIR/<session id>.<stream>.log`, so output that has left the 1 MiB
 * ring is not lost.
 *
 * Disks do not fill: when a file would pass `maxBytes` it is rotated (`.log` → `.log.1` → … →
 * `.log.<keep>`, the oldest deleted), so one stream never takes more than
 * `maxBytes × (keep + 1)`. Across the whole folder, once the spooled files total more than
 * `maxTotalBytes`, the oldest rotated files (of any session) are deleted first, then the oldest
 * current files of exited sessions.
 *
 * Writes are synchronous, from the session's `output` event, so nothing is queued in memory and
 * nothing is dropped however slow clients are. A write error (a full disk) stops spooling that
 * stream, is logged once, and never disturbs the session.
 *
 * The folder is trusted only as the socket's folder is: it must belong to this user and not be
 * writable by others (it is created 0700). Each file is created new, `O_CREAT | O_EXCL |
 * O_NOFOLLOW` and mode 0600: a file or symlink someone planted under a session's name is never
 * opened, appended to or followed (spooling that stream stops, and says why). Session ids are
 * random, so the names cannot be guessed in advance anyway.
 */
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../../proc/index.js';
import type { Session } from '../core/session.js';
import type { StreamName } from '../core/types.js';
import { ownUid } from '../wire/peer-credentials.js';
import { unsafeFolderReason } from '../wire/socket-trust.js';

/** New file only, never through a symlink, closed on exec. */
const CREATE_FLAGS =
  constants.O_WRONLY |
  constants.O_APPEND |
  constants.O_CREAT |
  constants.O_EXCL |
  constants.O_NOFOLLOW;

/** Options of the spooler. */
export interface SpoolOptions {
  /** The folder; created (mode 0700) when missing; must be this user's and closed to others. */
  dir: string;
  /**
   * Largest size of one file before rotation.
   * @default 10 MiB
   */
  maxBytes?: number;
  /**
   * Rotated files kept per stream.
   * @default 3
   */
  keep?: number;
  /**
   * Budget for every spooled file in the folder together.
   * @default 1 GiB
   */
  maxTotalBytes?: number;
}

interface SpoolFile {
  path: string;
  fd: number;
  size: number;
  failed: boolean;
}

/** Spools sessions' output to files with rotation (see the module comment). */
export class Spooler {
  readonly dir: string;
  readonly maxBytes: number;
  readonly keep: number;
  readonly maxTotalBytes: number;
  private readonly files = new Map<string, SpoolFile>();
  private readonly detach = new Map<Session, () => void>();
  private readonly log: (line: string) => void;
  private totalSinceCheck = 0;

  constructor(options: SpoolOptions, log: (line: string) => void = () => {}) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.keep = options.keep ?? 3;
    this.maxTotalBytes = options.maxTotalBytes ?? 1024 * 1024 * 1024;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1) {
      throw new InvalidOptionError(
        'maxBytes',
        `log file size cap must be a positive integer, got ${this.maxBytes}`,
      );
    }
    if (!Number.isSafeInteger(this.keep) || this.keep < 0) {
      throw new InvalidOptionError(
        'keep',
        `rotated files kept must be an integer >= 0, got ${this.keep}`,
      );
    }
    if (!Number.isSafeInteger(this.maxTotalBytes) || this.maxTotalBytes < 1) {
      throw new InvalidOptionError(
        'maxTotalBytes',
        `must be a positive integer, got ${this.maxTotalBytes}`,
      );
    }
    this.log = log;
    Spooler.prepare(this.dir);
  }

  /**
   * Creates `dir` (0700) if missing; throws `InvalidOptionError` (option `logDir`) when it is
   * not a folder, belongs to another user, or others can write to it.
   */
  static prepare(dir: string): void {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new InvalidOptionError('logDir', `cannot create ${dir}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const unsafe = unsafeFolderReason(dir, ownUid());
    if (unsafe) throw new InvalidOptionError('logDir', `refusing the spool folder: ${unsafe}`);
  }

  /** The file a stream of a session is spooled to (the current one, before rotation). */
  pathFor(sessionId: string, stream: StreamName): string {
    return join(this.dir, `${sessionId}.${stream}.log`);
  }

  /**
   * Starts spooling `session`: the backlog it already has (from offset 0, if the ring still
   * holds it), then every chunk as it is read. Files are closed after the session's exit.
   */
  track(session: Session): void {
    if (this.detach.has(session)) return;
    for (const stream of session.streams) {
      const snap = session.snapshot(stream);
      if (snap.data.length > 0) this.write(session.id, stream, snap.data);
    }
    const onOutput = (stream: StreamName, chunk: Buffer) => this.write(session.id, stream, chunk);
    const onExit = () => this.untrack(session);
    session.on('output', onOutput);
    session.once('exit', onExit);
    this.detach.set(session, () => {
      session.off('output', onOutput);
      session.off('exit', onExit);
    });
    if (session.exitInfo) this.untrack(session);
  }

  /** Stops spooling `session` and closes its files. */
  untrack(session: Session): void {
    this.detach.get(session)?.();
    this.detach.delete(session);
    for (const stream of session.streams) {
      const key = this.pathFor(session.id, stream);
      const f = this.files.get(key);
      if (f) {
        if (f.fd >= 0) closeSync(f.fd);
        this.files.delete(key);
      }
    }
  }

  /** Closes every file. */
  async close(): Promise<void> {
    for (const s of [...this.detach.keys()]) this.untrack(s);
    for (const f of this.files.values()) if (f.fd >= 0) closeSync(f.fd);
    this.files.clear();
  }

  private write(sessionId: string, stream: StreamName, chunk: Buffer): void {
    const path = this.pathFor(sessionId, stream);
    let f = this.files.get(path);
    if (!f) {
      f = { path, fd: -1, size: 0, failed: false };
      this.files.set(path, f);
    }
    if (f.failed) return;
    try {
      let at = 0;
      while (at < chunk.length) {
        if (f.fd < 0) this.open(f);
        if (f.size >= this.maxBytes) this.rotate(f);
        const room = this.maxBytes - f.size;
        const n = Math.min(room, chunk.length - at);
        let done = 0;
        while (done < n) done += writeSync(f.fd, chunk, at + done, n - done);
        f.size += n;
        at += n;
        this.totalSinceCheck += n;
      }
      if (this.totalSinceCheck >= Math.min(this.maxBytes, this.maxTotalBytes / 16)) {
        this.totalSinceCheck = 0;
        this.enforceTotal();
      }
    } catch (e) {
      f.failed = true;
      if (f.fd >= 0) {
        try {
          closeSync(f.fd);
        } catch {
          // nothing more to do
        }
        f.fd = -1;
      }
      this.log(`spooling ${path} stopped: ${(e as Error).message}`);
    }
  }

  /** Creates the stream's file anew (see the module comment); EEXIST if anything is there. */
  private open(f: SpoolFile): void {
    f.fd = openSync(f.path, CREATE_FLAGS, 0o600);
    f.size = fstatSync(f.fd).size;
  }

  private rotate(f: SpoolFile): void {
    closeSync(f.fd);
    f.fd = -1;
    if (this.keep === 0) {
      unlinkSync(f.path);
    } else {
      for (let i = this.keep; i >= 1; i--) {
        const from = i === 1 ? f.path : `${f.path}.${i - 1}`;
        try {
          renameSync(from, `${f.path}.${i}`); // replaces (drops) the oldest when i === keep
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    }
    this.open(f);
  }

  /** Deletes the oldest spooled files until the folder is within `maxTotalBytes`. */
  private enforceTotal(): void {
    const entries: { path: string; size: number; mtime: number; rotated: boolean }[] = [];
    let total = 0;
    for (const name of readdirSync(this.dir)) {
      if (!/\.(stdout|stderr)\.log(\.\d+)?$/.test(name)) continue;
      const path = join(this.dir, name);
      try {
        const st = statSync(path);
        total += st.size;
        entries.push({ path, size: st.size, mtime: st.mtimeMs, rotated: !name.endsWith('.log') });
      } catch {
        // raced with a rotation
      }
    }
    if (total <= this.maxTotalBytes) return;
    // Rotated files first (oldest first), then current files no session writes any more.
    entries.sort(
      (a, b) => Number(a.rotated === false) - Number(b.rotated === false) || a.mtime - b.mtime,
    );
    for (const e of entries) {
      if (total <= this.maxTotalBytes) break;
      if (!e.rotated && this.files.has(e.path)) continue;
      try {
        unlinkSync(e.path);
        total -= e.size;
      } catch {
        // already gone
      }
    }
  }
}
