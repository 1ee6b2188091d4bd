/**
 * `SessionRegistry`: the sessions a daemon (or any program) owns. It spawns them, finds them by
 * id, lists them by originator, and releases them: `remove` and `purgeExited` forget sessions
 * and free everything they held (fds, leftover group members); `shutdown` stops them all, so
 * nothing is left behind when the owner goes away.
 *
 * Sessions live in memory only; ids are random (see `ids.ts`), and `list` returns sessions in
 * creation order.
 */
import { DEFAULT_GRACE_MS, InvalidOptionError } from '../../proc/index.js';
import { DEFAULT_ATTACH_QUEUE_BYTES } from './attachment.js';
import {
  AmbiguousSessionIdError,
  RegistryClosedError,
  SessionIdTooShortError,
  SessionNotFoundError,
  SessionRunningError,
} from './errors.js';
import { newSessionId } from './ids.js';
import { PipeSession } from './pipe-session.js';
import { PtySession } from './pty-session.js';
import { DEFAULT_RING_BYTES } from './ring-buffer.js';
import type { Session } from './session.js';
import type { SpawnSessionOptions } from './types.js';

/**
 * The fewest characters of an id that `SessionRegistry.resolve` (and so every daemon request and
 * CLI command) accepts as a prefix: 4 of an id's 10 random characters, 20 bits, so among a few
 * hundred sessions a 4-character prefix is almost always unique, and a typo of one or two
 * characters never names a session.
 */
export const MIN_ID_PREFIX_LENGTH = 4;

/**
 * The one of `ids` that `idOrPrefix` names: itself when it is one of them, else the only one that
 * starts with it (see `SessionRegistry.resolve` for the errors). `ids` in the order the ambiguity
 * error should list them.
 */
export function resolveIdPrefix(ids: readonly string[], idOrPrefix: string): string {
  if (ids.includes(idOrPrefix)) return idOrPrefix;
  if (idOrPrefix.length < MIN_ID_PREFIX_LENGTH) {
    throw new SessionIdTooShortError(idOrPrefix, MIN_ID_PREFIX_LENGTH);
  }
  const found = ids.filter((id) => id.startsWith(idOrPrefix));
  if (found.length === 0) throw new SessionNotFoundError(idOrPrefix);
  if (found.length > 1) throw new AmbiguousSessionIdError(idOrPrefix, found);
  return found[0]!;
}

/** Options of `new SessionRegistry`. */
export interface SessionRegistryOptions {
  /**
   * Backlog kept per output stream, in bytes.
   * @default DEFAULT_RING_BYTES (1 MiB)
   */
  maxRingBytes?: number;
  /**
   * Bound of each attachment's queue, in bytes, when `attach` names none.
   * @default DEFAULT_ATTACH_QUEUE_BYTES (1 MiB)
   */
  maxAttachQueueBytes?: number;
  /**
   * Whether PTY sessions keep a screen model, so attaches draw the screen instead of replaying
   * raw bytes (docs/screens.md). Off, attaches replay the ring as in 0.1.
   * @default true
   */
  screens?: boolean;
  /** @deprecated Renamed `maxRingBytes`. */
  ringBytes?: number;
  /** @deprecated Renamed `maxAttachQueueBytes`. */
  attachQueueBytes?: number;
}

/** Options of `SessionRegistry.remove`. */
export interface RemoveOptions {
  /**
   * Remove a session whose child still runs: it is SIGKILLed with its group.
   * @default false
   */
  force?: boolean;
}

/** Options of `SessionRegistry.shutdown`. */
export interface ShutdownOptions {
  /**
   * Wait between each session's soft signal and SIGKILL.
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
}

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidOptionError(name, `must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * The sessions one owner holds (see the module comment); `shutdown` leaves nothing running.
 *
 * @example
 * ```ts
 * await using registry = new SessionRegistry();
 * const s = await registry.spawn({ argv: ['make', 'test'], originator: 'ci' });
 * const info = await s.exited;            // { exitCode, signal, outcome }
 * console.log(s.snapshot().data.toString());
 * ```
 */
export class SessionRegistry {
  /** Backlog kept per output stream, in bytes, unless a spawn names its own. */
  readonly maxRingBytes: number;
  /** Whether PTY sessions keep a screen model. */
  readonly screens: boolean;
  /** Bound of each attachment's queue, in bytes, unless the attach names its own. */
  readonly maxAttachQueueBytes: number;
  #sessions = new Map<string, Session>();
  /** Sessions removed but not yet released: their children may still await reaping. */
  #releasingSessions = new Set<Session>();
  #closed = false;
  #releasing = new Set<Promise<void>>();

  /** Throws `InvalidOptionError` for a size that is not a positive integer. */
  constructor(options: SessionRegistryOptions = {}) {
    this.maxRingBytes = positiveInt(
      options.maxRingBytes === undefined && options.ringBytes !== undefined
        ? 'ringBytes'
        : 'maxRingBytes',
      options.maxRingBytes ?? options.ringBytes,
      DEFAULT_RING_BYTES,
    );
    this.maxAttachQueueBytes = positiveInt(
      options.maxAttachQueueBytes === undefined && options.attachQueueBytes !== undefined
        ? 'attachQueueBytes'
        : 'maxAttachQueueBytes',
      options.maxAttachQueueBytes ?? options.attachQueueBytes,
      DEFAULT_ATTACH_QUEUE_BYTES,
    );
    if (options.screens !== undefined && typeof options.screens !== 'boolean') {
      throw new InvalidOptionError('screens', 'must be a boolean');
    }
    this.screens = options.screens ?? true;
  }

  /** @deprecated Renamed `maxRingBytes`. */
  get ringBytes(): number {
    return this.maxRingBytes;
  }

  /** @deprecated Renamed `maxAttachQueueBytes`. */
  get attachQueueBytes(): number {
    return this.maxAttachQueueBytes;
  }

  /**
   * Whether `pid` is the child of a session this registry holds or is still releasing: a child
   * Node (or node-pty) spawned and will reap. Used by the daemon to leave such pids alone.
   */
  ownsPid(pid: number): boolean {
    for (const s of this.#sessions.values()) if (s.pid === pid) return true;
    for (const s of this.#releasingSessions) if (s.pid === pid) return true;
    return false;
  }

  /** How many sessions the registry holds. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Starts a session (a PTY when `pty` is given, pipes otherwise) and registers it. Resolves once
   * the child runs; its output accumulates in the backlog from its first byte, attached or not.
   * Rejects with `SpawnError` (bad argv, program not found or not executable, bad cwd; then
   * nothing is registered or left open), `InvalidOptionError` for a bad size or option, and
   * `RegistryClosedError` after `shutdown`.
   */
  async spawn(options: SpawnSessionOptions): Promise<Session> {
    if (this.#closed) throw new RegistryClosedError();
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError('options', 'spawn options must be an object');
    }
    if (options.originator !== undefined && typeof options.originator !== 'string') {
      throw new InvalidOptionError('originator', 'must be a string');
    }
    if (!Array.isArray(options.argv)) {
      throw new InvalidOptionError('argv', 'must be an array of strings');
    }
    const maxRingBytes = positiveInt(
      options.maxRingBytes === undefined && options.ringBytes !== undefined
        ? 'ringBytes'
        : 'maxRingBytes',
      options.maxRingBytes ?? options.ringBytes,
      this.maxRingBytes,
    );
    if (
      options.env !== undefined &&
      (options.env === null || typeof options.env !== 'object' || Array.isArray(options.env))
    ) {
      throw new InvalidOptionError('env', 'must be an object of strings');
    }
    const id = this.#freshId();
    const init = {
      id,
      // Every process of the session (and below it) can tell which session it belongs to.
      options: { ...options, env: { ...options.env, SLUICE_SESSION_ID: id } },
      maxRingBytes,
      screen: this.screens,
      maxAttachQueueBytes: this.maxAttachQueueBytes,
    };
    const session: Session =
      options.pty !== undefined ? new PtySession(init) : await PipeSession.start(init);
    if (this.#closed) {
      // shut down while it was starting: it must not outlive the registry
      await session.dispose();
      throw new RegistryClosedError();
    }
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The session with this id, or undefined. */
  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /**
   * The session with this id, or whose id starts with this prefix (what a person types). A prefix
   * must have at least `MIN_ID_PREFIX_LENGTH` (4) characters, else `SessionIdTooShortError`, so
   * that a stray character never picks a session by chance; it must match exactly one session,
   * else `AmbiguousSessionIdError` (which lists the matches) or `SessionNotFoundError` (none).
   * A whole id always resolves, whatever its length.
   */
  resolve(idOrPrefix: string): Session {
    const exact = this.#sessions.get(idOrPrefix);
    if (exact) return exact;
    const id = resolveIdPrefix(
      this.list().map((s) => s.id),
      idOrPrefix,
    );
    return this.#sessions.get(id)!;
  }

  /** The sessions, oldest first; with `originator`, only that originator's. */
  list(filter: { originator?: string } = {}): Session[] {
    const all = [...this.#sessions.values()];
    const out =
      filter.originator === undefined ? all : all.filter((s) => s.originator === filter.originator);
    // Insertion order is when each spawn finished; sort (stably) by when each began.
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Forgets a session and releases what it held (its attachments end, its fds close, whatever
   * is left in its process group is SIGKILLed). A running session is refused with
   * `SessionRunningError` unless `force`. Resolves with the removed session, or undefined when
   * no session has this id; once it resolves, nothing of the session is left.
   */
  async remove(id: string, options: RemoveOptions = {}): Promise<Session | undefined> {
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (!session.hasExited && options.force !== true) throw new SessionRunningError(id);
    this.#sessions.delete(id);
    await this.#release(session);
    return session;
  }

  /**
   * Removes every session whose exit was recorded (of `originator` only, when given; an empty
   * string or undefined matches all), as `remove` does. Running sessions are never touched.
   * Resolves with the ids removed, oldest first.
   */
  async purgeExited(originator?: string): Promise<string[]> {
    const gone = this.list().filter(
      (s) => s.hasExited && (!originator || s.originator === originator),
    );
    for (const s of gone) this.#sessions.delete(s.id);
    await Promise.all(gone.map((s) => this.#release(s)));
    return gone.map((s) => s.id);
  }

  /**
   * Stops every session (soft signal, `graceMs`, SIGKILL, each whole group), releases them all
   * and refuses further spawns. Resolves when no child, group member or fd of any session is
   * left. Idempotent.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.#closed = true;
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(
      all.map(async (s) => {
        await s.terminate({ graceMs });
        await this.#release(s);
      }),
    );
    await Promise.all(this.#releasing);
  }

  /** `await using`: the same as `shutdown()` with the default grace. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** A new random id no session of this registry has (ids are random: a clash is retried). */
  #freshId(): string {
    for (;;) {
      const id = newSessionId();
      if (!this.#sessions.has(id)) return id;
    }
  }

  #release(session: Session): Promise<void> {
    this.#releasingSessions.add(session);
    const p = session.dispose().finally(() => {
      this.#releasing.delete(p);
      this.#releasingSessions.delete(session);
    });
    this.#releasing.add(p);
    return p;
  }
}
