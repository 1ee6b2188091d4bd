/**
 * The pipeline: stages joined stdout to stdin, started together, waited together.
 */
import { setMaxListeners } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { createPipes, type PipePair } from '../proc/index.js';
import { chooseError, type ErrorRule, failedStages } from './choose-error.js';
import { MaxBufferError, PipelineError, PipeUsageError } from './errors.js';
import { FunctionStage } from './function.js';
import { linesIterator } from './lines.js';
import { memoryPipe } from './memory-pipe.js';
import { type EdgeKind, planEdges } from './negotiate.js';
import { isFinishEarly, isPipeError } from './predicates.js';
import {
  type ExitInfo,
  type PipeEvent,
  processStageOf,
  type Stage,
  type StageContext,
  type StageErrorHandler,
} from './stage.js';
import { fdOfStream, InputStream, OutputStream } from './streams.js';

/** Options of `pipeline`. */
export interface PipelineOptions {
  /**
   * What the first stage reads: an fd (borrowed, never closed), a Readable (borrowed: its fd is
   * passed to a first command where it has one, else it is pumped), or a string or bytes.
   * Default: nothing (a command reads /dev/null).
   */
  stdin?: number | Readable | string | Uint8Array;
  /**
   * Where the last stage writes: an fd or a Writable (its fd goes straight to a last command
   * where it has one; otherwise the output is copied through pooled 64 KiB buffers). Default:
   * nothing (a command writes to /dev/null). Not with `output()`, `text()`, `lines()`.
   */
  stdout?: number | Writable;
  /** Close (end) `stdout` when the pipeline is done with it. Default false: it is borrowed. */
  closeStdout?: boolean;
  /** Working directory of every command (a stage's own relative `cwd` is resolved against it). */
  cwd?: string;
  /** Variables set over `process.env` for every stage; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Aborting it stops the pipeline: SIGTERM to every command's group, SIGKILL after the grace. */
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** Most bytes `output()`/`text()` collect before failing with `MaxBufferError`. Default 64 MiB. */
  maxBuffer?: number;
  /** Receives stage start/exit (with durations) and memory events. Exceptions are ignored. */
  onEvent?: (event: PipeEvent) => void;
  /** Turns exceptions thrown by function stages into their errors (go-pipe's panic handler). */
  onStageError?: StageErrorHandler;
  /**
   * Kernel buffer size for the pipes between stages (F_SETPIPE_SZ, Linux). Default: the kernel's
   * (64 KiB). 1 MiB moves bulk data about twice as fast, at 1 MiB of kernel memory per pipe.
   */
  pipeSize?: number;
  /**
   * Which stage errors fail the pipeline (see `ErrorRule`): `'sluice'` is pipefail, except that
   * a stage ended by SIGPIPE/EPIPE is not a failure when every stage downstream of it
   * succeeded; `'go-pipe'` is go-pipe's rule (a pipe error fails the pipeline when nothing else
   * failed and no stage downstream finished early). Among failures, the one `wait()` reports is
   * chosen by go-pipe's rule under both.
   * @default 'sluice'
   */
  errorRule?: ErrorRule;
}

/** How one stage ended, in `Pipeline.results` once the pipeline is done. */
export interface StageResult {
  name: string;
  index: number;
  /** The stage's own error (after its filters), or undefined. */
  error: unknown;
  /** When it was started and when its `wait()` settled (`performance.now()` ms). */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** For commands: pid, and exit code or signal. */
  pid?: number;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  /**
   * For commands that ran: how the process ended (exit code or signal, and whether the
   * pipeline had stopped it: `outcome` `'soft'`/`'hard'`, else `'natural'`). Undefined for
   * function stages and stages that failed to start.
   */
  exitInfo?: ExitInfo;
  /**
   * Whether this stage counts as a failure under the pipeline's `errorRule`: false for a
   * success, a `FinishEarly` and a forgiven pipe error. The pipeline fails exactly when one
   * result has `failed: true` (a start failure always does).
   */
  failed: boolean;
  /** Whether the stage failed to start. */
  startFailed: boolean;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/**
 * Makes an empty pipeline. Add stages with `add`, then `run()` (or `output()`, `text()`,
 * `lines()`, or `start()` and `wait()`).
 */
export function pipeline(options: PipelineOptions = {}): Pipeline {
  return new Pipeline(options);
}

type State = 'new' | 'started';

/**
 * Stages joined stdout to stdin.
 *
 * Guarantees:
 * - Each edge is negotiated before anything starts: a kernel pipe where either neighbour is a
 *   command, an in-memory pipe between two functions, the caller's own fd for the first stdin and
 *   last stdout of a command (no copy at all). A stream a stage forbids is refused up front.
 * - All of a pipeline's kernel pipes are made by one call; the parent's ends are closed as soon
 *   as the children that use them are spawned.
 * - `wait()` settles once every stage has finished and released what it held. Whether the
 *   pipeline failed is decided by `errorRule` (default `'sluice'`: pipefail, except that a stage
 *   ended by SIGPIPE/EPIPE is not a failure when every stage downstream of it succeeded); the
 *   `PipelineError` it rejects with is chosen by go-pipe's rules: stages are looked at in
 *   reverse; the earliest stage's non-pipe error wins; a pipe error is reported only where
 *   nothing else failed. A start failure wins over all.
 * - Aborting `signal` (or `abort()`) sends SIGTERM to every command's process group and SIGKILL
 *   after `killGraceMs`; function stages see their `signal` fire and their streams destroyed.
 */
export class Pipeline {
  readonly #options: PipelineOptions;
  readonly #stages: Stage[] = [];
  #state: State = 'new';
  readonly #controller = new AbortController();
  #done: Promise<void> | undefined;
  #results: StageResult[] = [];
  #capture: Readable | undefined;
  #captureWanted = false;

  constructor(options: PipelineOptions = {}) {
    if (options.maxBuffer !== undefined && !(options.maxBuffer >= 0)) {
      throw new PipeUsageError(`maxBuffer must be a non-negative number, got ${options.maxBuffer}`);
    }
    if (
      options.errorRule !== undefined &&
      options.errorRule !== 'sluice' &&
      options.errorRule !== 'go-pipe'
    ) {
      throw new PipeUsageError(
        `errorRule must be 'sluice' or 'go-pipe', got ${String(options.errorRule)}`,
      );
    }
    if (options.killGraceMs !== undefined && !(options.killGraceMs >= 0)) {
      throw new PipeUsageError(
        `killGraceMs must be a non-negative number, got ${options.killGraceMs}`,
      );
    }
    this.#options = options;
    setMaxListeners(0, this.#controller.signal);
  }

  /** The stages added so far. */
  get stages(): readonly Stage[] {
    return this.#stages;
  }

  /** How each stage ended; complete once `wait()` has settled. */
  get results(): readonly StageResult[] {
    return this.#results;
  }

  /** Appends stages. Throws `PipeUsageError` after `start()`. */
  add(...stages: Stage[]): this {
    if (this.#state !== 'new') throw new PipeUsageError('add: the pipeline has already started');
    for (const s of stages) {
      if (!s || typeof s.start !== 'function' || typeof s.wait !== 'function') {
        throw new PipeUsageError(`add: not a stage: ${String(s)}`);
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
    this.#controller.abort(reason);
  }

  /**
   * Starts every stage. Throws `PipeUsageError` when called twice or when a stage forbids a
   * stream that is connected (before anything starts); a stage that fails to spawn does not
   * throw here: the stages before it are stopped and `wait()` rejects with its error.
   */
  start(): void {
    if (this.#state !== 'new') throw new PipeUsageError('start: the pipeline has already started');
    this.#state = 'started';
    const o = this.#options;
    const stdoutMode = this.#captureWanted ? 'capture' : o.stdout === undefined ? 'none' : 'caller';
    if (this.#captureWanted && o.stdout !== undefined) {
      throw new PipeUsageError(
        'output(), text() and lines() need a pipeline without a stdout option',
      );
    }
    const stages = [...this.#stages];
    if (stages.length === 0 && stdoutMode !== 'none') stages.push(identityStage());

    let edges: EdgeKind[];
    let pipes: PipePair[] = [];
    try {
      edges = planEdges(stages, { stdin: o.stdin !== undefined, stdout: stdoutMode });
      const kernelCount = edges.filter((e) => e === 'kernel').length;
      pipes = createPipes(kernelCount, o.pipeSize ? { size: o.pipeSize } : {});
    } catch (e) {
      // Nothing started: let go of what the caller asked us to close.
      this.#closeCallerStdout();
      this.#done = Promise.reject(e);
      this.#done.catch(() => {});
      throw e;
    }

    // Build every end up front, so a failure can close whatever was not handed over.
    const inputs: InputStream[] = [];
    const outputs: OutputStream[] = [];
    let pipeIndex = 0;
    for (let i = 0; i < edges.length; i++) {
      const kind = edges[i]!;
      let out: OutputStream | undefined; // the writer side of edge i (stage i-1's stdout)
      let inp: InputStream | undefined; // the reader side (stage i's stdin)
      if (kind === 'none') {
        out = OutputStream.none();
        inp = InputStream.none();
      } else if (kind === 'caller') {
        if (i === 0) inp = this.#callerStdin();
        else out = this.#callerStdout();
      } else if (kind === 'kernel') {
        const p = pipes[pipeIndex++]!;
        out = OutputStream.fd(p.writeFd, { closing: true, isPipe: true });
        inp = InputStream.fd(p.readFd, { closing: true, isPipe: true });
      } else {
        const mp = memoryPipe();
        out = OutputStream.stream(mp.writable, { closing: true });
        inp = InputStream.stream(mp.readable, { closing: true });
      }
      if (i > 0) outputs.push(out ?? OutputStream.none());
      if (i < stages.length) inputs.push(inp ?? InputStream.none());
      else if (stdoutMode === 'capture' && inp) this.#capture = inp.readable();
    }

    const ctx: StageContext = {
      signal: this.#controller.signal,
      cwd: o.cwd,
      env: o.env ?? {},
      killGraceMs: o.killGraceMs ?? 2000,
      emit: (e) => this.#emit(e),
      onStageError: o.onStageError,
    };
    const external = o.signal;
    const onExternalAbort = () => this.#controller.abort(external!.reason);
    if (external) {
      if (external.aborted) this.#controller.abort(external.reason);
      else external.addEventListener('abort', onExternalAbort, { once: true });
    }

    const startedAt: number[] = [];
    const waits: Promise<unknown>[] = [];
    let startError: { index: number; error: unknown } | undefined;
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      const t0 = performance.now();
      startedAt.push(t0);
      try {
        stage.start(ctx, inputs[i]!, outputs[i]!);
      } catch (error) {
        inputs[i]!.close();
        outputs[i]!.close();
        startError = { index: i, error };
        this.#emit({ type: 'start-failed', stage: stage.name, index: i, error });
        // Close every end not handed over, and stop the stages already running.
        for (let j = i + 1; j < stages.length; j++) {
          inputs[j]!.close();
          outputs[j]!.close();
        }
        this.#capture?.destroy();
        this.#controller.abort(error);
        break;
      }
      this.#emit({
        type: 'stage-start',
        stage: stage.name,
        index: i,
        pid: processStageOf(stage)?.pid,
        at: t0,
      });
      waits.push(
        stage.wait().then(
          () => this.#finished(stage, i, t0, undefined),
          (error: unknown) => this.#finished(stage, i, t0, error ?? new Error('stage failed')),
        ),
      );
    }

    this.#done = Promise.all(waits).then(() => {
      external?.removeEventListener('abort', onExternalAbort);
      const results = this.#results;
      if (startError) {
        const s = stages[startError.index]!;
        results.push({
          name: s.name,
          index: startError.index,
          error: startError.error,
          startedAt: startedAt[startError.index]!,
          endedAt: startedAt[startError.index]!,
          durationMs: 0,
          failed: true,
          startFailed: true,
        });
      }
      results.sort((a, b) => a.index - b.index);
      const rule = o.errorRule ?? 'sluice';
      const failed = failedStages(results, rule);
      for (let i = 0; i < results.length; i++) results[i]!.failed = failed[i]!;
      if (startError) {
        throw new PipelineError(stages[startError.index]!.name, startError.index, startError.error);
      }
      const chosen = chooseError(results, rule);
      if (chosen) throw new PipelineError(chosen.name, chosen.index, chosen.error);
    });
    this.#done.catch(() => {});
  }

  /** Waits for every stage; see the class comment for the error it rejects with. */
  wait(): Promise<void> {
    if (!this.#done)
      return Promise.reject(new PipeUsageError('wait: the pipeline was not started'));
    return this.#done;
  }

  /** `start()` then `wait()`. */
  async run(): Promise<void> {
    this.start();
    return this.wait();
  }

  /**
   * Runs the pipeline and resolves with everything its last stage wrote, as one Buffer. Past
   * `maxBuffer` bytes the pipeline is stopped and the promise rejects with `MaxBufferError` (once
   * every stage has finished).
   */
  async output(): Promise<Buffer> {
    const readable = this.#startCapture();
    const max = this.#options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow: MaxBufferError | undefined;
    try {
      for await (const chunk of readable) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > max) {
          overflow = new MaxBufferError(max);
          const room = max - (size - b.length);
          if (room > 0) chunks.push(b.subarray(0, room));
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

  /** @internal Used by `lines()`. */
  _startCapture(): Readable {
    return this.#startCapture();
  }

  /** @internal Stops the pipeline after the consumer of `lines()` left early; reports real errors. */
  async _finishEarly(): Promise<void> {
    const reason = new EarlyExit();
    this.#capture?.destroy();
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
    return this.#capture!;
  }

  #callerStdin(): InputStream {
    const s = this.#options.stdin;
    if (typeof s === 'number') return InputStream.fd(s, { closing: false });
    if (typeof s === 'string' || s instanceof Uint8Array) {
      return InputStream.stream(Readable.from([Buffer.from(s)]), { closing: true });
    }
    if (s && typeof (s as Readable).on === 'function') {
      const fd = fdOfStream(s);
      if (fd !== undefined) return InputStream.fd(fd, { closing: false, stream: s });
      return InputStream.stream(s, { closing: false });
    }
    return InputStream.none();
  }

  #callerStdout(): OutputStream {
    const s = this.#options.stdout;
    const closing = this.#options.closeStdout === true;
    if (typeof s === 'number') return OutputStream.fd(s, { closing });
    if (s && typeof (s as Writable).write === 'function') {
      const fd = fdOfStream(s);
      if (fd !== undefined) return OutputStream.fd(fd, { closing, stream: s });
      return OutputStream.stream(s, { closing });
    }
    return OutputStream.none();
  }

  #closeCallerStdout(): void {
    if (this.#options.closeStdout && this.#options.stdout !== undefined)
      this.#callerStdout().close();
  }

  #finished(stage: Stage, index: number, startedAt: number, error: unknown): void {
    const endedAt = performance.now();
    const proc = processStageOf(stage);
    const exit = proc?.exitInfo;
    this.#results.push({
      name: stage.name,
      index,
      error,
      startedAt,
      endedAt,
      durationMs: endedAt - startedAt,
      pid: proc?.pid,
      exitCode: exit?.exitCode,
      signal: exit?.signal,
      exitInfo: exit,
      failed: error !== undefined,
      startFailed: false,
    });
    this.#emit({
      type: 'stage-exit',
      stage: stage.name,
      index,
      durationMs: endedAt - startedAt,
      error,
      exitCode: exit?.exitCode,
      signal: exit?.signal,
    });
  }

  #emit(event: PipeEvent): void {
    const h = this.#options.onEvent;
    if (!h) return;
    try {
      h(event);
    } catch {
      // An event handler cannot break the pipeline.
    }
  }
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
