/**
 * The plain data types of sluice/sessions, shared by the library, the daemon's protocol and the
 * CLI. Everything here is JSON-friendly except `Buffer` payloads.
 */

import type { ExitInfo } from '../../proc/index.js';
import type { RestartPolicy } from '../../supervisor/index.js';

/** What a session runs on: kernel pipes, or a pseudo-terminal. */
export type SessionKind = 'pipe' | 'pty';

/**
 * An output stream of a session. A pipe session has `stdout` and `stderr` (only `stdout` when
 * stderr is merged into it); a PTY session has one merged stream, named `stdout`.
 */
export type StreamName = 'stdout' | 'stderr';

/**
 * @deprecated A session's exit is now proc's `ExitInfo` (`session.exitInfo`) plus
 * `session.exitedAt`; this is the two together, the shape `exitState` had. Kept one minor version.
 */
export interface ExitState extends ExitInfo {
  /** When the exit was seen, in ms since the epoch. */
  readonly exitedAt: number;
}

/** A PTY's size in character cells. */
export interface PtySize {
  /** Height in character cells; a positive integer. */
  rows: number;
  /** Width in character cells; a positive integer. */
  cols: number;
}

/** What `SessionRegistry.spawn` takes. */
export interface SpawnSessionOptions {
  /** The program and its arguments; `argv[0]` is looked up on `PATH` unless it holds a `/`. */
  argv: readonly string[];
  /**
   * Working directory (checked before spawning).
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Environment entries laid over this process's environment (a value of `undefined` removes the
   * key). With `inheritEnv: false` they are the whole environment. The child also gets
   * `SLUICE_SESSION_ID`, its session's id (its descendants inherit it).
   * @default {} (this process's environment as it is)
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Start from this process's environment.
   * @default true
   */
  inheritEnv?: boolean;
  /**
   * Who asked for the session (a tool name, a user); `list` and `purgeExited` filter on it.
   * @default ''
   */
  originator?: string;
  /**
   * Pipe sessions: send stderr into the same kernel pipe as stdout, interleaved in write order.
   * Then the session has only a `stdout` stream. Ignored for a PTY (always merged).
   * @default false
   */
  mergeStderr?: boolean;
  /**
   * Run on a pseudo-terminal of this size instead of pipes.
   * @default undefined (pipes)
   */
  pty?: PtySize;
  /**
   * For a PTY: the `TERM` the child sees.
   * @default env.TERM, else 'xterm-256color'
   */
  term?: string;
  /**
   * Backlog kept per output stream, in bytes.
   * @default the registry's `maxRingBytes` (1 MiB)
   */
  maxRingBytes?: number;
  /** @deprecated Renamed `maxRingBytes` (every byte limit is named `max<What>Bytes`). */
  ringBytes?: number;
  /**
   * Start the program again when it exits on its own, with the supervisor's restart policy
   * (`when: 'always' | 'on-failure'`, `maxRestarts`, `backoffMs`, …; docs/supervisor.md). The
   * session keeps its id, ring, screen and attachments across restarts; a marker line in the
   * output says each restart; `exited` resolves (and attachments end) only when the policy stops
   * restarting or the session is terminated. Off unless given.
   * @default undefined (no restarts)
   */
  restart?: RestartPolicy;
}

/** One line of `SessionRegistry.list()` as plain data (what `Session.info()` returns). */
export interface SessionInfo {
  /** The registry-assigned id, unique for the registry's lifetime; lookups accept an unambiguous prefix. */
  id: string;
  /** The program's process id (it leads its own process group); after the exit, the last one it had. */
  pid: number;
  /** Whether it runs on pipes or on a pseudo-terminal. */
  kind: SessionKind;
  /** The argv joined for display, each word quoted where a shell would need it. */
  command: string;
  /** The program and its arguments as spawned. */
  argv: string[];
  /** The absolute working directory it was started in. */
  cwd: string;
  /** Who asked for the session, as given to `spawn`; empty when not given. */
  originator: string;
  /** When the session was created, in milliseconds since the epoch. */
  createdAt: number;
  /** `'running'` until the exit is recorded, then `'exited'`. */
  state: 'running' | 'exited';
  /** How the child ended; null while it runs. */
  exitInfo: ExitInfo | null;
  /** When the exit was recorded, in ms since the epoch; null while it runs. */
  exitedAt: number | null;
  /** The streams this session has. */
  streams: StreamName[];
  /** Per stream: whether a writer is attached, how many read-only viewers, bytes written so far. */
  attachments: Record<
    string,
    {
      /** Whether a client is attached as this stream's writer (the one that may send input). */
      writer: boolean;
      /** How many read-only viewers are attached. */
      viewers: number;
      /** Total bytes the program has written to the stream since the session started. */
      bytes: number;
      /** Bytes dropped from the front of the ring to keep it within `maxRingBytes`. */
      dropped: number;
    }
  >;
  /** Whether the session's stdin has been closed (`writeStdin` with `close`). */
  stdinClosed: boolean;
  /** For a PTY, its current size. */
  size: PtySize | null;
  /** How many times the restart policy started the program again. */
  restarts: number;
  /** How the latest run ended (the one before the current run while restarting); null before. */
  lastExit: ExitInfo | null;
}

/** Options of `Session.terminate`. */
export interface TerminateOptions {
  /**
   * How long the group may take to end after the soft signal before SIGKILL; 0 means SIGKILL at
   * once (outcome `'hard'`).
   * @default DEFAULT_GRACE_MS (5000), sluice's one grace for every part
   */
  graceMs?: number;
  /**
   * The soft signal.
   * @default 'SIGTERM' for a pipe session, 'SIGHUP' for a PTY (a hung-up terminal)
   */
  softSignal?: NodeJS.Signals;
}

/** Options of `Session.writeStdin`. */
export interface WriteStdinOptions {
  /**
   * Close stdin after writing (a PTY gets its EOF character, Ctrl-D).
   * @default false
   */
  close?: boolean;
}

/** The events a session emits: `output` per chunk read, `exit` once after the last output. */
export interface SessionEvents {
  /**
   * A chunk the program wrote to `stream`; `offset` is the absolute stream offset of its first
   * byte. The chunk is the listener's to keep: its memory is never reused for later output.
   */
  output: [stream: StreamName, chunk: Buffer, offset: number];
  /** The session has ended (with a restart policy: once the policy stops restarting). */
  exit: [exitInfo: ExitInfo];
}
