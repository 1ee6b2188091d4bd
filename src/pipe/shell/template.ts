/**
 * The `sh` tagged template: a script in sluice's shell language with values interpolated as
 * words, run without a shell. The object it returns is a `Pipeline` (start, wait, run, output,
 * text, lines, abort) and also a promise of a `ShellResult` (`await sh\`…\``), with Bun's and
 * zx's conveniences: `.nothrow()`, `.quiet()`, `.json()`.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { MaxBufferError, PipeUsageError } from '../errors.js';
import { linesIterator } from '../pipeline/lines.js';
import { Pipeline, type PipelineOptions, type StageResult } from '../pipeline/pipeline.js';
import type { StderrOption } from '../stages/command.js';
import { checkValues } from './check-values.js';
import { ShellExitError, ShellExpansionError, StatusError } from './errors.js';
import { Collector, DEFAULT_MAX_BUFFER, makeResult, type ShellResult } from './result.js';
import { Interpreter, type InterpreterOptions } from './run/interpreter.js';
import type { ShellIO } from './run/io.js';
import { ShellState } from './run/state.js';
import type { Script } from './syntax/ast.js';
import { parseTemplate } from './syntax/parser.js';

/** Options of `sh(options)`: the pipeline's, and the script's. */
export interface ShOptions extends PipelineOptions {
  /**
   * Where every command's stderr goes. By default it is collected (up to `maxBufferBytes`,
   * keeping the end) into the result's `stderr` and the tail of error messages.
   * @default collected
   */
  stderr?: StderrOption;
  /**
   * What a glob that matches nothing does: `'error'` stops the script with a
   * `ShellExpansionError` naming the pattern (bash's `failglob`, zsh's default), `'literal'`
   * passes the pattern on as written (bash's default, which turns `rm *.tmp` into an error of
   * `rm` at best).
   * @default 'error'
   */
  noMatch?: 'error' | 'literal';
  /** A non-zero exit status resolves instead of rejecting. @default false */
  nothrow?: boolean;
  /** Also copy the script's stdout and stderr to this process's while collecting them. @default false */
  verbose?: boolean;
  /** `$0`, `$1`, … of the script. @default ['sh'] */
  args?: readonly string[];
}

/**
 * A script from the `sh` template. It is a `Pipeline` as far as running goes (`start`, `wait`,
 * `run`, `output`, `text`, `lines`, `abort`, `await using`), and a promise of a `ShellResult`.
 *
 * Guarantees:
 * - Nothing runs until it is started (`run()`, `text()`, …, or `await`); it runs at most once.
 * - It rejects with a `ShellExitError` (a `PipelineError` naming the command whose failure
 *   decided the status) when the script ends with a non-zero status, unless `nothrow`; with a
 *   `ShellExpansionError` when a glob matched nothing or `${NAME:?}` stopped it (a status, too,
 *   with `nothrow`).
 * - Aborting `signal` or calling `abort()` stops the running pipeline's process groups
 *   (SIGTERM, SIGKILL after `graceMs`) and the script; every promise settles once every child is
 *   reaped.
 * - `add()` is refused: put a stage in the template instead (`` sh`a | ${stage} | b` ``).
 */
export class ShellPipeline extends Pipeline implements PromiseLike<ShellResult> {
  /** The parsed script (see `Script`); values appear as `ValuePart`s indexing `values`. */
  readonly script: Script;
  /** The template's values, in order. */
  readonly values: readonly unknown[];
  readonly #options: ShOptions;
  #nothrow: boolean;
  #verbose: boolean;
  readonly #controller = new AbortController();
  #running: Promise<ShellResult> | undefined;
  #capture: PassThrough | undefined;
  #captureWanted = false;
  #disposed = false;

  constructor(script: Script, values: readonly unknown[], options: ShOptions = {}) {
    super({});
    this.script = script;
    this.values = values;
    this.#options = options;
    this.#nothrow = options.nothrow === true;
    this.#verbose = options.verbose === true;
    checkValues(script, values);
  }

  /** Resolve with the result even when the exit status is not 0 (Bun's and zx's `nothrow`). */
  nothrow(): this {
    this.#nothrow = true;
    return this;
  }

  /** Do not copy output to this process's stdout and stderr (undoes `verbose`). */
  quiet(): this {
    this.#verbose = false;
    return this;
  }

  override add(): this {
    throw new PipeUsageError(
      'add: a shell script takes stages in the template (sh`a | \u0024{stage}`)',
    );
  }

  override abort(reason?: unknown): void {
    this.#controller.abort(reason);
  }

  /**
   * `await using`: a script that never started is marked disposed (starting it then throws); a
   * running one is stopped as by `abort()` and waited for. Never throws the script's failure.
   */
  override async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#running) {
      this.#disposed = true;
      return;
    }
    this.abort();
    await this.#running.catch(() => {});
  }

  override start(): void {
    if (this.#running) throw new PipeUsageError('start: the script has already started');
    if (this.#disposed) throw new PipeUsageError('start: the script was disposed');
    const stdout = this.#captureWanted ? this.#capture : this.#options.stdout;
    this.#running = this.#execute(stdout, false);
    this.#running.catch(() => {});
  }

  override wait(): Promise<void> {
    if (!this.#running)
      return Promise.reject(new PipeUsageError('wait: the script was not started'));
    return this.#running.then(() => undefined);
  }

  override async run(): Promise<void> {
    this.start();
    return this.wait();
  }

  /** Runs the script and resolves with its stdout (at most `maxBufferBytes`, else `MaxBufferError`). */
  override async output(): Promise<Buffer> {
    return (await this.#collect()).stdout;
  }

  override async text(): Promise<string> {
    return (await this.#collect()).stdout.toString('utf8');
  }

  /** Runs the script and parses its stdout as JSON. */
  async json<T = unknown>(): Promise<T> {
    return (await this.#collect()).json<T>();
  }

  /** Results of the script's last pipeline are not kept; always empty for a script. */
  override get results(): readonly StageResult[] {
    return [];
  }

  override lines(): AsyncIterable<string> {
    return { [Symbol.asyncIterator]: () => linesIterator(this) };
  }

  override _startCapture(): Readable {
    if (this.#running) throw new PipeUsageError('the script has already started');
    if (this.#options.stdout !== undefined) {
      throw new PipeUsageError(
        'output(), text() and lines() need a script without a stdout option',
      );
    }
    this.#capture = new PassThrough();
    this.#captureWanted = true;
    this.start();
    return this.#capture;
  }

  override async _finishEarly(): Promise<void> {
    const reason = new Error('the consumer stopped reading');
    this.#capture?.destroy();
    this.abort(reason);
    await this.#running?.catch((e: unknown) => {
      if (e !== reason && !(e instanceof ShellExitError)) throw e;
    });
  }

  // biome-ignore lint/suspicious/noThenProperty: a script is awaitable, as Bun's and zx's are
  then<A = ShellResult, B = never>(
    onfulfilled?: ((value: ShellResult) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#collect().then(onfulfilled, onrejected);
  }

  /** Runs the script (as `await` does) and handles its rejection. */
  catch<B = never>(
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<ShellResult | B> {
    return this.#collect().catch(onrejected);
  }

  /** Runs the script (as `await` does) and calls `onfinally` when it settles. */
  finally(onfinally?: (() => void) | null): Promise<ShellResult> {
    return this.#collect().finally(onfinally);
  }

  #collect(): Promise<ShellResult> {
    if (this.#disposed) return Promise.reject(new PipeUsageError('the script was disposed'));
    if (!this.#running) {
      if (this.#options.stdout !== undefined)
        this.#running = this.#execute(this.#options.stdout, false);
      else this.#running = this.#execute(undefined, true);
      this.#running.catch(() => {});
    }
    return this.#running;
  }

  async #execute(
    stdoutTarget: number | Writable | undefined,
    collect: boolean,
  ): Promise<ShellResult> {
    const o = this.#options;
    const max = o.maxBufferBytes ?? o.maxBuffer ?? DEFAULT_MAX_BUFFER;
    let overflow: MaxBufferError | undefined;
    const out = collect
      ? new Collector(max, false, this.#verbose ? process.stdout : undefined, () => {
          overflow = new MaxBufferError(max);
          this.abort(overflow);
        })
      : undefined;
    const err =
      o.stderr === undefined
        ? new Collector(max, true, this.#verbose ? process.stderr : undefined)
        : undefined;
    const signals = [this.#controller.signal, ...(o.signal ? [o.signal] : [])];
    const signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
    const state = new ShellState({
      cwd: o.cwd ?? process.cwd(),
      env: { ...process.env, ...o.env },
      positional: [...(o.args ?? ['sh'])],
    });
    const options: InterpreterOptions = {
      values: this.values,
      noMatch: o.noMatch,
      signal,
      graceMs: o.graceMs ?? o.killGraceMs ?? 5000,
    };
    const interp = new Interpreter(options);
    const stdin = typeof o.stdin === 'string' ? Buffer.from(o.stdin) : o.stdin;
    const io: ShellIO = { stdin, stdout: out ?? stdoutTarget, stderr: o.stderr ?? err! };
    let status: number;
    try {
      status = await interp.run(this.script, state, io);
    } catch (e) {
      if (e instanceof ShellExpansionError && this.#nothrow) status = e.status;
      else {
        if (overflow) throw overflow;
        throw e;
      }
    } finally {
      if (stdoutTarget instanceof PassThrough && stdoutTarget === this.#capture) stdoutTarget.end();
      if (o.closeStdout && stdoutTarget !== undefined && stdoutTarget !== this.#capture) {
        if (typeof stdoutTarget === 'object') stdoutTarget.end();
      }
    }
    if (overflow) throw overflow;
    const result = makeResult(
      status,
      out?.buffer() ?? Buffer.alloc(0),
      err?.buffer() ?? Buffer.alloc(0),
    );
    if (status !== 0 && !this.#nothrow) {
      const f = interp.lastFailure ?? {
        stage: 'sh',
        index: 0,
        cause: new StatusError(status, `exit status ${status}`),
      };
      const error = new ShellExitError(f.stage, f.index, f.cause, result);
      const tail = result.stderr.toString('utf8').trim().split('\n').slice(-5).join('\n');
      if (tail && !error.message.includes(tail)) error.message += `: ${tail.slice(-500)}`;
      throw error;
    }
    return result;
  }
}

type Tag = (strings: TemplateStringsArray, ...values: unknown[]) => ShellPipeline;

/**
 * Runs shell-language text without a shell: `` sh`grep -c ${word} ${file} | sort` ``, or with
 * options `` sh({ cwd, env, signal, nothrow })`…` ``. Every `${value}` is exactly one word
 * (never split, globbed or parsed; an array standing alone is one word per element; a Stage
 * standing alone between pipes is that stage; bytes, a Readable, a Writable or a file handle
 * right after `<` or `>` is that redirection's source or target). Throws `ShellSyntaxError`,
 * `ShellUnsupportedError` or `ShellValueError` at once for text or values outside the language;
 * runs nothing until started. See docs/shell.md for the language.
 *
 * @example
 * ```ts
 * const { stdout, exitCode } = await sh`git log --oneline ${branch} | head -5`.nothrow();
 * for await (const line of sh`find ${dir} -name ${'*.ts'}`.lines()) console.log(line);
 * const n = await sh`cat *.txt | wc -l`.text();
 * ```
 */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): ShellPipeline;
export function sh(options: ShOptions): Tag;
export function sh(
  first: TemplateStringsArray | ShOptions,
  ...values: unknown[]
): ShellPipeline | Tag {
  if (Array.isArray(first)) return build({}, first as TemplateStringsArray, values);
  if (typeof first !== 'object' || first === null) {
    throw new PipeUsageError('sh: use it as a tag (sh`…`) or with options (sh({…})`…`)');
  }
  const options = first as ShOptions;
  return (strings: TemplateStringsArray, ...vals: unknown[]) => build(options, strings, vals);
}

function build(
  options: ShOptions,
  strings: TemplateStringsArray,
  values: unknown[],
): ShellPipeline {
  const pieces = strings.raw ?? strings;
  return new ShellPipeline(parseTemplate(pieces, values.length), values, options);
}
