/**
 * `SessionRegistry`: the sessions a daemon (or any program) owns. It spawns them, finds them by
 * id, lists them by originator, and releases them: `remove` and `purgeExited` forget sessions
 * and free everything they held (fds, leftover group members); `shutdown` stops them all, so
 * nothing is left behind when the owner goes away.
 *
 * Sessions live in memory only; ids sort by creation (see `ids.ts`), and `list` returns them in
 * that order.
 */
import { DEFAULT_ATTACH_QUEUE_BYTES } from './attachment.js';
import {
  InvalidArgumentError,
  RegistryClosedError,
  SessionNotFoundError,
  SessionRunningError,
} from './errors.js';
import { newSessionId } from './ids.js';
import { PipeSession } from './pipe-session.js';
import { PtySession } from './pty-session.js';
import { DEFAULT_RING_BYTES } from './ring-buffer.js';
import { DEFAULT_GRACE_MS, type Session } from './session.js';
import type { SpawnSessionOptions } from './types.js';

/** Options of `new SessionRegistry`. */
export interface SessionRegistryOptions {
  /** Backlog kept per output stream, in bytes. Default 1 MiB. */
  ringBytes?: number;
  /** Bound of each attachment's queue, in bytes, when `attach` names none. Default 1 MiB. */
  attachQueueBytes?: number;
}

/** Options of `SessionRegistry.remove`. */
export interface RemoveOptions {
  /** Remove a session whose child still runs: it is SIGKILLed with its group. Default false. */
  force?: boolean;
}

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** The sessions one owner holds (see the module comment); `shutdown` leaves nothing running. */
export class SessionRegistry {
  readonly ringBytes: number;
  readonly attachQueueBytes: number;
  #sessions = new Map<string, Session>();
  #closed = false;
  #releasing = new Set<Promise<void>>();

  /** Throws `InvalidArgumentError` for a size that is not a positive integer. */
  constructor(options: SessionRegistryOptions = {}) {
    this.ringBytes = positiveInt('ringBytes', options.ringBytes, DEFAULT_RING_BYTES);
    this.attachQueueBytes = positiveInt(
      'attachQueueBytes',
      options.attachQueueBytes,
      DEFAULT_ATTACH_QUEUE_BYTES,
    );
  }

  /** How many sessions the registry holds. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Starts a session (a PTY when `pty` is given, pipes otherwise) and registers it. Resolves once
   * the child runs; its output accumulates in the backlog from its first byte, attached or not.
   * Rejects with `SpawnError` (bad argv, program not found or not executable, bad cwd; then
   * nothing is registered or left open), `InvalidArgumentError` for a bad size or option, and
   * `RegistryClosedError` after `shutdown`.
   */
  async spawn(options: SpawnSessionOptions): Promise<Session> {
    if (this.#closed) throw new RegistryClosedError();
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('spawn options must be an object');
    }
    if (options.originator !== undefined && typeof options.originator !== 'string') {
      throw new InvalidArgumentError('originator must be a string');
    }
    if (!Array.isArray(options.argv)) {
      throw new InvalidArgumentError('argv must be an array of strings');
    }
    const ringBytes = positiveInt('ringBytes', options.ringBytes, this.ringBytes);
    const init = {
      id: newSessionId(),
      options,
      ringBytes,
      attachQueueBytes: this.attachQueueBytes,
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
   * The session with this id or with this unique id prefix (what a person types). Throws
   * `SessionNotFoundError` when none or several match.
   */
  resolve(idOrPrefix: string): Session {
    const exact = this.#sessions.get(idOrPrefix);
    if (exact) return exact;
    const found = idOrPrefix
      ? [...this.#sessions.values()].filter((s) => s.id.startsWith(idOrPrefix))
      : [];
    if (found.length !== 1) throw new SessionNotFoundError(idOrPrefix);
    return found[0]!;
  }

  /** The sessions, oldest first; with `originator`, only that originator's. */
  list(filter: { originator?: string } = {}): Session[] {
    const all = [...this.#sessions.values()];
    const out =
      filter.originator === undefined ? all : all.filter((s) => s.originator === filter.originator);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  #release(session: Session): Promise<void> {
    const p = session.dispose().finally(() => this.#releasing.delete(p));
    this.#releasing.add(p);
    return p;
  }
}
