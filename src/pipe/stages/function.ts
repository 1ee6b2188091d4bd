/**
 * The function stage: an async function that reads a Node Readable and writes a Node Writable.
 */
import net from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream';
import { InvalidOptionError, toError } from '../../proc/index.js';
import { FinishEarly, PipeUsageError } from '../errors.js';
import type { InputStream, OutputStream } from '../pipeline/streams.js';
import { isFinishEarly } from '../predicates.js';
import type { Stage, StageContext, StagePreferences, StreamPreference } from '../stage.js';
import { validPreference } from '../stage.js';

/** What a function stage is given besides its streams. */
export interface FnContext {
  /** The stage's name. */
  readonly name: string;
  /**
   * Aborted when the pipeline is aborted. A function should stop when it fires; if it does not,
   * its streams are destroyed with the abort reason anyway, so a pending read or write fails.
   */
  readonly signal: AbortSignal;
  /** The pipeline's working directory (undefined: the process's). */
  readonly cwd: string | undefined;
  /** The environment the pipeline's commands get: `process.env` with the pipeline's `env` over it. */
  readonly env: Readonly<Record<string, string>>;
}

/** The body of a function stage. */
export type StageFunction = (
  ctx: FnContext,
  stdin: Readable,
  stdout: Writable,
) => Promise<void> | void;

/** Options of `fn`. */
export interface FnOptions {
  /**
   * What the stage prefers on stdin (`'none'` forbids a stdin).
   * @default 'any'
   */
  stdin?: StreamPreference;
  /**
   * What the stage prefers on stdout (`'none'` forbids a stdout).
   * @default 'any'
   */
  stdout?: StreamPreference;
  /**
   * Variables over the pipeline's, seen in `ctx.env`; `undefined` removes one.
   * @default {}
   */
  env?: Record<string, string | undefined>;
  /**
   * The stage's `ctx.cwd`; a relative one is resolved against the pipeline's.
   * @default the pipeline's `cwd`
   */
  cwd?: string;
}

/**
 * A function stage. `f` gets a Readable (empty when nothing is connected) and a Writable (a
 * discarding one when nothing is connected).
 *
 * Guarantees:
 * - Between two function stages the edge is an in-memory pipe; next to a command it is a kernel
 *   pipe the function reads or writes as a non-blocking socket.
 * - When `f` settles, stdout is ended (what was written is flushed first, also when `f` threw:
 *   the next stage sees every byte written before the error) and stdin is destroyed (a stage
 *   still writing into it gets EPIPE, SIGPIPE or `ClosedPipeError`). A caller's stream is never
 *   ended or destroyed, only flushed and let go.
 * - Throwing `FinishEarly` means success. Anything else thrown is a failure: an `Error` as it
 *   is, any other value (`undefined` and `null` included) wrapped in a `PanicError` (sluice's one
 *   panic rule). It goes through the pipeline's `onStageError` handler if there is one (what
 *   that returns becomes the stage's error, undefined meaning success).
 * - A write error the function ignored (the reader went away) is still reported as the stage's
 *   error when `f` itself succeeded; it is a pipe error, so `ignoreError(…, isPipeError)` drops it.
 * - Throws `InvalidOptionError` at once for an empty name, a non-function or a bad preference.
 *
 * @example
 * ```ts
 * const count = fn('count', async (_ctx, stdin, stdout) => {
 *   let n = 0;
 *   for await (const chunk of stdin) n += (chunk as Buffer).length;
 *   stdout.write(`${n}\n`);
 * });
 * await pipeline({ stdout: process.stdout }).add(command('cat', [file]), count).run();
 * ```
 */
export function fn(name: string, f: StageFunction, options: FnOptions = {}): Stage {
  return new FunctionStage(name, f, options);
}

/** The stage `fn` (and `linewise`, `scanner`, `print`) returns; see `fn` for its guarantees. */
export class FunctionStage implements Stage {
  readonly name: string;
  readonly preferences: StagePreferences;
  readonly #f: StageFunction;
  readonly #options: FnOptions;
  #done: Promise<void> | undefined;
  #started = false;

  constructor(name: string, f: StageFunction, options: FnOptions = {}) {
    if (typeof name !== 'string' || name === '') {
      throw new InvalidOptionError('name', 'fn: a stage needs a non-empty name');
    }
    if (typeof f !== 'function') throw new InvalidOptionError('f', `${name}: not a function`);
    const prefs = { stdin: options.stdin ?? 'any', stdout: options.stdout ?? 'any' };
    for (const side of ['stdin', 'stdout'] as const) {
      if (!validPreference(prefs[side])) {
        throw new InvalidOptionError(
          side,
          `${name}: invalid stream preference ${String(prefs[side])}`,
        );
      }
    }
    this.name = name;
    this.#f = f;
    this.#options = options;
    this.preferences = prefs;
  }

  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void {
    if (this.#started) {
      stdin.close();
      stdout.close();
      throw new PipeUsageError(`${this.name}: stage started twice`);
    }
    this.#started = true;
    const r = stdin.readable();
    const w = stdout.writable();
    let writeError: Error | undefined;
    const onWriteError = (e: Error) => {
      writeError ??= e;
    };
    w.on('error', onWriteError);
    const onAbort = () => {
      const reason = ctx.signal.reason as Error;
      r.destroy(reason);
      w.destroy(reason);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const fctx = makeContext(this.name, ctx, this.#options);
    const f = this.#f;
    this.#done = (async () => {
      // undefined: success. Anything thrown is a failure, `undefined` and `null` included
      // (sluice's panic rule: a non-Error is wrapped in a PanicError), except FinishEarly.
      let error: unknown;
      try {
        await f(fctx, r, w);
      } catch (thrown) {
        error = isFinishEarly(thrown) ? thrown : toError(thrown, `stage ${this.name}`).error;
      }
      ctx.signal.removeEventListener('abort', onAbort);
      if (error !== undefined && !isFinishEarly(error) && ctx.onStageError) {
        // The handler decides: what it returns is the error, undefined (or null) success.
        try {
          error = ctx.onStageError(error, this.name) ?? undefined;
        } catch (thrown) {
          error = toError(thrown, `onStageError of ${this.name}`).error;
        }
      }
      // Flush and end stdout (the caller's stream is only flushed), then drop stdin.
      stdout.close();
      await settled(w);
      stdin.close();
      if (error === undefined) {
        if (writeError) throw writeError;
        return;
      }
      if (error === FinishEarly) throw new FinishEarly();
      throw error;
    })();
  }

  wait(): Promise<void> {
    if (!this.#done) return Promise.reject(new PipeUsageError(`${this.name}: wait before start`));
    return this.#done;
  }
}

function makeContext(name: string, ctx: StageContext, options: FnOptions): FnContext {
  let env: Record<string, string> | undefined;
  const cwd =
    options.cwd === undefined
      ? ctx.cwd
      : ctx.cwd !== undefined && !isAbsolute(options.cwd)
        ? resolve(ctx.cwd, options.cwd)
        : options.cwd;
  return {
    name,
    signal: ctx.signal,
    cwd,
    get env() {
      if (!env) {
        const e: Record<string, string> = {};
        for (const [k, v] of Object.entries(process.env)) if (v !== undefined) e[k] = v;
        for (const layer of [ctx.env, options.env ?? {}]) {
          for (const [k, v] of Object.entries(layer)) {
            if (v === undefined) delete e[k];
            else e[k] = v;
          }
        }
        env = e;
      }
      return env;
    },
  };
}

/**
 * Resolves once `w` has finished or failed, and for sockets once the fd is closed (so a
 * finished stage holds no fd).
 */
export function settled(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (w instanceof net.Socket) {
      if (w.closed) return resolve();
      w.once('close', () => resolve());
      return;
    }
    if (w.writableFinished || w.destroyed) return resolve();
    finished(w, { readable: false }, () => resolve());
  });
}
