/**
 * The pipeline: stages joined stdout to stdin, started together, waited together.
 */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { InvalidOptionError, toError } from '../../proc/index.js';
import { MaxBufferError, PipelineError, PipeUsageError, StageStuckError } from '../errors.js';
import { isFinishEarly, isPipeError } from '../predicates.js';
import { type PipeEvent, processStageOf, type Stage, type StageContext } from '../stage.js';
import { FunctionStage } from '../stages/function.js';
import { chooseError, failedStages } from './choose-error.js';
import { Ends, type StdoutMode } from './ends.js';
import { linesIterator } from './lines.js';
import { planEdges } from './negotiate.js';
import { type PipelineOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type StageResult, stageResult } from './stage-result.js';

export type { PipelineOptions, StageResult };

/**
 * How long past `graceMs` a command stage may still take to settle after a stop before the
 * pipeline gives up on it: SIGKILL was sent at `graceMs`, so only a copy into a caller's stream
 * that never drains can hold it this long.
 */
const PROCESS_SETTLE_MS = 2000;

/**
 * Makes an empty pipeline. Add stages with `add`, then `run()` (or `output()`, `text()`,
 * `lines()`, or `start()` and `wait()`). Throws `InvalidOptionError` for a bad option.
 *
 * @example
 * ```ts
 * import { command, pipeline } from 'sluice/pipe';
 * const text = await pipeline().add(command('seq', ['3']), command('tac')).text(); // "3\n2\n1\n"
 * ```
 */
export function pipeline(options: PipelineOptions = {}): Pipeline {
  return new Pipeline(options);
}

type State = 'new' | 'started' | 'disposed';

/** One stage's run: when it started and, once settled, its result. */
interface Slot {
  stage: Stage;
  startedAt: number;
  result?: StageResult;
}

/**
 * Stages joined stdout to stdin.
 *
 * Guarantees:
 * - Each edge is negotiated before anything starts: a kernel pipe where either neighbour is a
 *   command, an in-memory pipe between two functions, the caller's own fd for the first stdin and
 *   last stdout of a command (no copy at all). A stream a stage forbids is refused up front.
 * - Each pipe is made just before the stage that writes into it starts, and the parent's ends are
 *   closed as soon as the children that use them are spawned, so the parent holds at most a couple
 *   of pipe fds however long the pipeline is. Out of fds, the stage that could not get its pipe
 *   fails to start (`StageStartError`, `errno` `EMFILE`).
 * - `wait()` always settles: once every stage has finished and released what it held, or, after
 *   the pipeline was stopped, once `graceMs` has passed for a stage that ignores the stop (it is
 *   then reported as a `StageStuckError`). Whether the pipeline failed is decided by `errorRule`
 *   (default `'sluice'`: pipefail, except that a stage ended by SIGPIPE/EPIPE is not a failure
 *   when every stage downstream of it succeeded); the `PipelineError` it rejects with is chosen
 *   by go-pipe's rules: stages are looked at in reverse; the earliest stage's non-pipe error wins;
 *   a pipe error is reported only where nothing else failed. A start failure wins over all, then a
 *   stuck stage.
 * - Aborting `signal` (or `abort()`) sends SIGTERM to every command's process group and SIGKILL
 *   after `graceMs`; function stages see their `signal` fire and their streams destroyed.
 * - `await using p = pipeline()…`: disposing stops a running pipeline (as `abort()`) and waits
 *   for it; it never throws the pipeline's failure (read it from `wait()` or `results`).
 */
export class Pipeline implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #stages: Stage[] = [];
  #state: State = 'new';
  readonly #controller = new AbortController();
  #done: Promise<void> | undefined;
  #settled = false;
  #results: StageResult[] = [];
  #ends: Ends | undefined;
  #captureWanted = false;
  #slots: Slot[] = [];
  #pending = 0;
  #finish: (() => void) | undefined;
  #stuckTimers: NodeJS.Timeout[] = [];
  #unfollow: (() => void) | undefined;

  constructor(options: PipelineOptions = {}) {
    this.#options = resolveOptions(options);
    setMaxListeners(0, this.#controller.signal);
  }

  /** The stages added so far. */
  get stages(): readonly Stage[] {
    return this.#stages;
  }

  /** How each stage ended, in stage order; complete once `wait()` has settled. */
  get results(): readonly StageResult[] {
    return this.#results;
  }

  /**
   * Appends stages. Throws `PipeUsageError` after `start()`, `InvalidOptionError` for something
   * that is not a stage (nothing is appended then).
   */
  add(...stages: Stage[]): this {
    if (this.#state !== 'new') throw new PipeUsageError('add: the pipeline has already started');
    for (const [i, s] of stages.entries()) {
      if (!s || typeof s.start !== 'function' || typeof s.wait !== 'function') {
        throw new InvalidOptionError(`stages[${i}]`, `not a stage: ${String(s)}`);
      }
    }
    this.#stages.push(...stages);
    return this;
  }

  /**
   * Stops the pipeline as its `signal` would, with `reason` (default: an AbortError) as the
   * error of the commands it kills. Does nothing once the pipeline is done.
   */
  abort(reason?: unknown): void {
    if (!this.#settled) this.#controller.abort(reason);
  }

  /**
   * Starts every stage. Throws `PipeUsageError` when called twice or when a stage forbids a
   * stream that is connected (before anything starts); a stage that fails to start does not
   * throw here: the stages before it are stopped and `wait()` rejects with its error.
   */
  start(): void {
    if (this.#state !== 'new') {
      throw new PipeUsageError(`start: the pipeline has already ${this.#state}`);
    }
    this.#state = 'started';
    const stages = [...this.#stages];
    const stdoutMode = this.#stdoutMode();
    if (stages.length === 0 && stdoutMode !== 'none') stages.push(identityStage());
    let ends: Ends;
    try {
      ends = this.#plan(stages, stdoutMode);
    } catch (e) {
      this.#settled = true;
      this.#done = Promise.reject(e);
      this.#done.catch(() => {});
      throw e;
    }
    this.#ends = ends;
    this.#done = new Promise<void>((resolve) => {
      this.#finish = resolve;
    }).then(() => this.#verdict());
    this.#done.catch(() => {});
    this.#followSignals();
    this.#startAll(stages, ends, this.#context());
    this.#maybeFinish();
  }

  /** Waits for every stage; see the class comment for when it settles and what it rejects with. */
  wait(): Promise<void> {
    if (!this.#done) {
      return Promise.reject(new PipeUsageError('wait: the pipeline was not started'));
    }
    return this.#done;
  }

  /** `start()` then `wait()`. */
  async run(): Promise<void> {
    this.start();
    return this.wait();
  }

  /**
   * Runs the pipeline and resolves with everything its last stage wrote, as one Buffer. Past
   * `maxBufferBytes` the pipeline is stopped and the promise rejects with `MaxBufferError` (once
   * every stage has finished).
   */
  async output(): Promise<Buffer> {
    const readable = this.#startCapture();
    const max = this.#options.maxBufferBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow: MaxBufferError | undefined;
    try {
      for await (const chunk of readable) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > max) {
          overflow = new MaxBufferError(max);
          break;
        }
        chunks.push(b);
      }
    } catch {
      // The pipeline's own error, if any, is what wait() reports.
    }
    if (overflow) {
      readable.destroy();
      this.abort(overflow);
      await this.wait().catch(() => {});
      throw overflow;
    }
    await this.wait();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  }

  /** `output()` decoded as UTF-8 (nothing stripped). */
  async text(): Promise<string> {
    return (await this.output()).toString('utf8');
  }

  /**
   * Runs the pipeline (when iteration begins) and yields the lines of its final stdout as they
   * come, without the `\n` (a `\r` before it is dropped too; a last line without a newline is
   * yielded). Never holds more than one chunk and a partial line. After the last line it waits
   * for the pipeline and throws its error, if any. Leaving the loop early stops the pipeline (as
   * `head` would: the writer gets SIGPIPE, the rest is aborted) and waits for it; errors caused by
   * that are not reported.
   */
  lines(): AsyncIterable<string> {
    return {
      [Symbol.asyncIterator]: () => linesIterator(this),
    };
  }

  /**
   * `await using`: a pipeline that was never started is marked disposed (`start()` then
   * throws); a running one is stopped as by `abort()` and waited for. Never throws the
   * pipeline's failure: it stays in `wait()` and `results`.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'disposed';
      return;
    }
    this.abort();
    await this.#done?.catch(() => {});
  }

  /** @internal Used by `lines()`. */
  _startCapture(): Readable {
    return this.#startCapture();
  }

  /** @internal Stops the pipeline after the consumer of `lines()` left early; reports real errors. */
  async _finishEarly(): Promise<void> {
    const reason = new EarlyExit();
    this.#ends?.capture?.destroy();
    this.abort(reason);
    await this.wait().catch(() => {});
    for (const r of this.#results) {
      const e = r.error;
      if (e === undefined || e === reason || isPipeError(e) || isFinishEarly(e)) continue;
      throw new PipelineError(r.name, r.index, e);
    }
  }

  #startCapture(): Readable {
    if (this.#state !== 'new') throw new PipeUsageError('the pipeline has already started');
    this.#captureWanted = true;
    this.start();
    return this.#ends!.capture!;
  }

  #stdoutMode(): StdoutMode {
    const raw = this.#options.raw;
    if (this.#captureWanted && raw.stdout !== undefined) {
      throw new PipeUsageError(
        'output(), text() and lines() need a pipeline without a stdout option',
      );
    }
    return this.#captureWanted ? 'capture' : raw.stdout === undefined ? 'none' : 'caller';
  }

  /** Negotiates the edges; on a refusal, lets go of what the caller asked us to close. */
  #plan(stages: Stage[], stdoutMode: StdoutMode): Ends {
    const raw = this.#options.raw;
    const ends = (edges: ReturnType<typeof planEdges>) =>
      new Ends(
        edges,
        stages.map((s) => s.preferences),
        raw,
        this.#options.pipeSize,
        stdoutMode,
      );
    try {
      return ends(planEdges(stages, { stdin: raw.stdin !== undefined, stdout: stdoutMode }));
    } catch (e) {
      // Nothing started: an Ends over no stage closes the caller's stdout where it is ours.
      ends(['none', stdoutMode === 'caller' ? 'caller' : 'none']).closeRest();
      throw e;
    }
  }

  #context(): StageContext {
    const raw = this.#options.raw;
    const graceMs = this.#options.graceMs;
    return {
      signal: this.#controller.signal,
      cwd: raw.cwd,
      env: raw.env ?? {},
      graceMs,
      killGraceMs: graceMs,
      emit: (e) => this.#emit(e),
      onStageError: raw.onStageError,
    };
  }

  /** Follows the caller's signal, and arms the stuck-stage deadlines when the pipeline stops. */
  #followSignals(): void {
    const external = this.#options.raw.signal;
    const onExternalAbort = () => this.#controller.abort(external!.reason);
    const onStop = () => this.#armStuckDeadlines();
    if (this.#controller.signal.aborted) onStop();
    else this.#controller.signal.addEventListener('abort', onStop, { once: true });
    if (external) {
      if (external.aborted) this.#controller.abort(external.reason);
      else external.addEventListener('abort', onExternalAbort, { once: true });
    }
    this.#unfollow = () => {
      external?.removeEventListener('abort', onExternalAbort);
      this.#controller.signal.removeEventListener('abort', onStop);
    };
  }

  /** Starts the stages in order; the first that fails to start stops the ones before it. */
  #startAll(stages: Stage[], ends: Ends, ctx: StageContext): void {
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      const slot: Slot = { stage, startedAt: performance.now() };
      this.#slots.push(slot);
      const error = this.#startOne(stage, i, ends, ctx);
      if (error !== undefined) {
        slot.result = stageResult(stage, i, slot.startedAt, error, { startFailed: true });
        this.#emit({ type: 'start-failed', stage: stage.name, index: i, error });
        ends.closeRest();
        this.#controller.abort(error);
        return;
      }
      this.#emit({
        type: 'stage-start',
        stage: stage.name,
        index: i,
        pid: processStageOf(stage)?.pid,
        at: slot.startedAt,
      });
      this.#pending++;
      stage.wait().then(
        () => this.#settle(slot, i, undefined),
        (e: unknown) => this.#settle(slot, i, asStageError(e, stage.name)),
      );
    }
    ends.closeRest();
  }

  /** Starts one stage with its two ends; returns its start error, or undefined. */
  #startOne(stage: Stage, i: number, ends: Ends, ctx: StageContext): unknown {
    const inp = ends.input(i);
    let out: ReturnType<Ends['output']> | undefined;
    try {
      out = ends.output(i, stage.name);
      stage.start(ctx, inp, out);
      return undefined;
    } catch (e) {
      // The stage owns its ends even when it throws; closing again is harmless.
      inp.close();
      out?.close();
      return asStageError(e, stage.name);
    }
  }

  #settle(slot: Slot, index: number, error: unknown, stuck = false): void {
    if (slot.result) return; // already given up on as stuck
    slot.result = stageResult(slot.stage, index, slot.startedAt, error, { stuck });
    const r = slot.result;
    this.#emit({
      type: 'stage-exit',
      stage: r.name,
      index,
      durationMs: r.durationMs,
      error,
      exitCode: r.exitCode,
      signal: r.signal,
    });
    this.#pending--;
    this.#maybeFinish();
  }

  /** After a stop: give up on function stages after `graceMs`, on commands a little later. */
  #armStuckDeadlines(): void {
    if (this.#settled) return;
    const graceMs = this.#options.graceMs;
    const reason = this.#controller.signal.reason;
    const giveUp = (processes: boolean) => () => {
      for (const [i, slot] of this.#slots.entries()) {
        if (slot.result || (processStageOf(slot.stage) !== undefined) !== processes) continue;
        this.#settle(
          slot,
          i,
          new StageStuckError(slot.stage.name, graceMs, { cause: reason }),
          true,
        );
      }
    };
    this.#stuckTimers.push(
      setTimeout(giveUp(false), graceMs),
      setTimeout(giveUp(true), graceMs + PROCESS_SETTLE_MS),
    );
  }

  #maybeFinish(): void {
    if (this.#pending > 0 || !this.#finish || this.#settled) return;
    this.#settled = true;
    for (const t of this.#stuckTimers) clearTimeout(t);
    this.#stuckTimers = [];
    this.#unfollow?.();
    this.#ends?.release();
    this.#finish();
  }

  /** Fills `results` and throws the error the pipeline reports, if any. */
  #verdict(): void {
    const results = this.#slots.map((s) => s.result!);
    const failed = failedStages(results, this.#options.errorRule);
    for (const [i, r] of results.entries()) r.failed = failed[i]! || r.startFailed || r.stuck;
    this.#results = results;
    const first =
      results.find((r) => r.startFailed) ??
      results.find((r) => r.stuck) ??
      chooseError(results, this.#options.errorRule);
    if (first) throw new PipelineError(first.name, first.index, first.error);
  }

  #emit(event: PipeEvent): void {
    const h = this.#options.raw.onEvent;
    if (!h) return;
    try {
      h(event);
    } catch {
      // An event handler cannot break the pipeline.
    }
  }
}

/**
 * A stage's error as the pipeline records it: sluice's one panic rule (a thrown non-Error,
 * `undefined` and `null` included, is wrapped in a `PanicError` and is a failure), except that
 * `FinishEarly`, which go-pipe throws as a bare sentinel, is kept as it is.
 */
function asStageError(thrown: unknown, stage: string): unknown {
  if (isFinishEarly(thrown)) return thrown;
  return toError(thrown, `stage ${stage}`).error;
}

/** The abort reason used when the consumer of `lines()` stops early. */
class EarlyExit extends Error {
  constructor() {
    super('the consumer stopped reading');
    this.name = 'EarlyExit';
  }
}

/** What an empty pipeline runs when it has somewhere to write: stdin copied to stdout. */
function identityStage(): Stage {
  return new FunctionStage('identity', (_ctx, stdin, stdout) =>
    streamPipeline(stdin, stdout, { end: false }),
  );
}
