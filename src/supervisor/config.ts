/**
 * What `supervise()` and `Child.stop()` accept, the defaults, and the one place both are checked
 * (a bad option is an `InvalidOptionError`, raised before anything starts).
 */
import { type Clock, DEFAULT_GRACE_MS, InvalidOptionError, systemClock } from '../proc/index.js';
import { RestartBudget, type RestartPolicy } from './restart.js';

/**
 * The default wait for an exit on EOF before the soft signal: 2 s. A stdio server that exits on
 * EOF after flushing (the MCP reference server takes 0.3–0.45 s on a loaded machine) gets it; one
 * that ignores EOF pays it once per stop.
 */
export const DEFAULT_EOF_TIMEOUT_MS = 2000;
/** The default cut for a line without a newline: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** The default bound of the stdout line queue: 4 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 4 * 1024 * 1024;

/** Everything `supervise()` accepts besides the program to run. */
export interface SuperviseOptions {
  /**
   * Working directory; checked before spawning (`ERR_SLUICE_SPAWN_BAD_CWD`).
   * @default this process's cwd
   */
  cwd?: string;
  /**
   * Laid over this process's environment; `undefined` removes a key.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * How long `stop()` waits after the soft signal (SIGTERM to the group) before SIGKILL. 0 means
   * SIGKILL at once, with no SIGTERM and no EOF wait (the Go supervisor reads 0 as its default
   * instead; leave it undefined for the default here).
   * @default DEFAULT_GRACE_MS (5000)
   */
  graceMs?: number;
  /** @deprecated Use `graceMs`; removed in 0.3.0. */
  stopGraceMs?: number;
  /**
   * How long `stop()` waits, after closing stdin, for the child to exit on EOF before the soft
   * signal; such an exit reads outcome `'eof'`. Capped at `graceMs`; 0 sends the soft signal at
   * once (still after closing stdin).
   * @default DEFAULT_EOF_TIMEOUT_MS (2000)
   */
  eofTimeoutMs?: number;
  /** @deprecated Use `eofTimeoutMs`; removed in 0.3.0. */
  stopEofMs?: number;
  /**
   * Called with every stderr line as text: decoded as UTF-8 (an invalid byte becomes U+FFFD), the
   * `\n` removed and a `\r` right before it too, cut into pieces of at most `maxLineBytes`
   * (at a character boundary). Returning a promise pauses stderr until it settles. Without it
   * (and without `onStderrBytes`) stderr is still read and discarded, so the child never blocks.
   */
  onStderr?: (line: string) => unknown;
  /**
   * Called with every stderr line as the exact bytes between two `\n` (the `\n` removed, nothing
   * else: a `\r` stays, nothing is decoded), cut into pieces of exactly `maxLineBytes`. Returning
   * a promise pauses stderr until it settles. May be given with `onStderr`; both see every line.
   */
  onStderrBytes?: (line: Buffer) => unknown;
  /** Called for every non-empty stdout line `messages()` cannot parse as JSON. */
  onParseError?: (line: string, error: Error) => void;
  /** Restart the child when it exits on its own. Off when absent. */
  restart?: RestartPolicy;
  /**
   * The clock the restart policy runs on.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * A stdout or stderr line longer than this many bytes is cut into pieces of at most this
   * size, so a child that never writes a newline cannot grow memory without bound.
   * @default DEFAULT_MAX_LINE_BYTES (16 MiB)
   */
  maxLineBytes?: number;
  /** @deprecated Use `maxLineBytes` (it counts bytes now, not characters); removed in 0.3.0. */
  maxLineLength?: number;
  /**
   * The bytes of stdout that `lines()`/`messages()` hold for a consumer that has not asked for
   * them yet (queued lines plus the unfinished line). Past it, stdout is paused and the child
   * blocks on its full pipe until the consumer catches up. A consumer waiting for a line longer
   * than this still gets it (up to `maxLineBytes`).
   * @default DEFAULT_MAX_QUEUE_BYTES (4 MiB)
   */
  maxQueueBytes?: number;
  /**
   * Aborting it stops the child for good, gracefully (`stop()` with the configured times). An
   * already-aborted signal makes `supervise()` reject with its reason before anything starts.
   */
  signal?: AbortSignal;
}

/**
 * What `supervise()` starts and how: `argv` (the program and its arguments; `argv[0]` is looked
 * up on `PATH` unless it holds a `/`) and the options.
 */
export type SuperviseConfig = SuperviseOptions &
  (
    | {
        /** The program and its arguments; `argv[0]` is looked up on `PATH` unless it holds a `/`. */
        argv: readonly string[];
        /** Not allowed beside `argv`. */
        cmd?: undefined;
      }
    | {
        /** @deprecated Use `argv`; removed in 0.3.0. */
        cmd: readonly string[];
        /** Not allowed beside `cmd`. */
        argv?: undefined;
      }
  );

/** Options of `Child.stop`. */
export interface StopOptions {
  /**
   * Overrides the child's `graceMs` for this stop.
   * @default the child's graceMs
   */
  graceMs?: number;
  /**
   * Overrides the child's `eofTimeoutMs` for this stop.
   * @default the child's eofTimeoutMs
   */
  eofTimeoutMs?: number;
  /** @deprecated Use `eofTimeoutMs`; removed in 0.3.0. */
  eofMs?: number;
  /** Aborting it skips whatever waiting is left and SIGKILLs the group at once. */
  signal?: AbortSignal;
}

/** A checked config with its defaults. */
export interface Settings {
  argv: readonly string[];
  cwd: string | undefined;
  env: Readonly<Record<string, string | undefined>> | undefined;
  graceMs: number;
  eofTimeoutMs: number;
  onStderr: ((line: string) => unknown) | undefined;
  onStderrBytes: ((line: Buffer) => unknown) | undefined;
  onParseError: ((line: string, error: Error) => void) | undefined;
  maxLineBytes: number;
  maxQueueBytes: number;
  clock: Clock;
  budget: RestartBudget | undefined;
  signal: AbortSignal | undefined;
}

/** Throws `InvalidOptionError` unless `v` is undefined or a finite number >= 0. */
export function checkMs(name: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
    throw new InvalidOptionError(name, `must be a finite number >= 0, got ${String(v)}`);
  }
}

function checkFunction(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'function') {
    throw new InvalidOptionError(name, 'must be a function');
  }
}

function positiveInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (!(typeof v === 'number' && Number.isSafeInteger(v) && v > 0)) {
    throw new InvalidOptionError(name, `must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** The program to run: `argv`, or the deprecated `cmd`; a non-array is refused here. */
function argvOf(config: SuperviseConfig): readonly string[] {
  if (config.argv !== undefined && config.cmd !== undefined) {
    throw new InvalidOptionError('argv', 'give argv or its deprecated alias cmd, not both');
  }
  const argv = config.argv ?? config.cmd;
  if (!Array.isArray(argv)) {
    throw new InvalidOptionError('argv', 'is required: the program and its arguments');
  }
  return argv as readonly string[];
}

/** Checks `config` and fills in the defaults. Throws `InvalidOptionError`, changing nothing. */
export function settle(config: SuperviseConfig): Settings {
  if (config === null || typeof config !== 'object') {
    throw new InvalidOptionError('config', 'supervise() needs a config object with an argv');
  }
  const argv = argvOf(config);
  for (const name of ['graceMs', 'stopGraceMs', 'eofTimeoutMs', 'stopEofMs'] as const) {
    checkMs(name, config[name]);
  }
  checkFunction('onStderr', config.onStderr);
  checkFunction('onStderrBytes', config.onStderrBytes);
  checkFunction('onParseError', config.onParseError);
  if (config.signal !== undefined && !(config.signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  }
  const maxLineBytes = positiveInt(
    config.maxLineBytes === undefined && config.maxLineLength !== undefined
      ? 'maxLineLength'
      : 'maxLineBytes',
    config.maxLineBytes ?? config.maxLineLength,
    DEFAULT_MAX_LINE_BYTES,
  );
  const maxQueueBytes = positiveInt('maxQueueBytes', config.maxQueueBytes, DEFAULT_MAX_QUEUE_BYTES);
  let budget: RestartBudget | undefined;
  if (config.restart !== undefined) {
    if (config.restart === null || typeof config.restart !== 'object') {
      throw new InvalidOptionError('restart', 'must be an object (a restart policy)');
    }
    budget = new RestartBudget(config.restart);
  }
  const graceMs = config.graceMs ?? config.stopGraceMs ?? DEFAULT_GRACE_MS;
  return {
    argv,
    cwd: config.cwd,
    env: config.env,
    graceMs,
    eofTimeoutMs: config.eofTimeoutMs ?? config.stopEofMs ?? DEFAULT_EOF_TIMEOUT_MS,
    onStderr: config.onStderr,
    onStderrBytes: config.onStderrBytes,
    onParseError: config.onParseError,
    maxLineBytes,
    maxQueueBytes,
    clock: config.clock ?? systemClock,
    budget,
    signal: config.signal,
  };
}

/** The waits of one stop: the child's settings, overridden by `o`; the EOF wait capped at the grace. */
export function stopTimes(s: Settings, o: StopOptions): { graceMs: number; eofTimeoutMs: number } {
  const graceMs = o.graceMs ?? s.graceMs;
  return { graceMs, eofTimeoutMs: Math.min(o.eofTimeoutMs ?? o.eofMs ?? s.eofTimeoutMs, graceMs) };
}
