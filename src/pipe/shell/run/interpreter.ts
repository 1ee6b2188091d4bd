import { Writable } from 'node:stream';
import type { Stage } from '../../stage.js';
import { fn } from '../../stages/function.js';
import { ShellExpansionError, ShellUnsupportedError, StatusError } from '../errors.js';
import { type ExpandContext, expandString, expandWord } from '../expansion/expand.js';
import { isStage } from '../expansion/values.js';
import type {
  CommandNode,
  Group,
  PipelineNode,
  Redirection,
  Script,
  SimpleCommand,
  Statement,
  Word,
} from '../syntax/ast.js';
import { parseScript } from '../syntax/parser.js';
import { REFUSED_BUILTINS } from '../syntax/refused.js';
import { BUILTINS, ExitRequest, runBuiltin } from './builtins.js';
import { type ResolvedRedirection, ShellCommandStage } from './command-stage.js';
import { redirectIO, type ShellIO, writeText } from './io.js';
import { resolveRedirections } from './redirections.js';
import { type Failure, type PipelineInstrument, runStages } from './run-stages.js';
import type { ShellState } from './state.js';

/** Options of the interpreter. */
export interface InterpreterOptions {
  /** The template's values, indexed by the tree's `ValuePart`s. @default [] */
  values?: readonly unknown[];
  /** What a glob that matches nothing does. @default 'error' */
  noMatch?: 'error' | 'literal';
  /**
   * Aborting it stops the running pipeline (SIGTERM, then SIGKILL after `graceMs`) and the
   * script, which rejects with the signal's reason. @default none
   */
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL. @default 5000 */
  graceMs?: number;
  /** Most bytes one `$(…)` may produce. @default 64 MiB */
  maxSubstitutionBytes?: number;
  /** See `PipelineInstrument`. @default none */
  instrument?: PipelineInstrument;
}

const DEFAULT_MAX_SUBSTITUTION = 64 * 1024 * 1024;

/**
 * Runs scripts; see the module comment. One interpreter may run several scripts in turn, one at a
 * time. `run` settles only once every command it started has been reaped; the streams in `io`
 * are borrowed (never closed).
 *
 * @example
 * ```ts
 * const state = new ShellState({ cwd: process.cwd(), env: process.env });
 * const status = await new Interpreter().run(parseScript('make && make test'), state, {
 *   stdin: 0, stdout: 1, stderr: 'inherit',
 * });
 * ```
 */
export class Interpreter {
  readonly #o: InterpreterOptions;
  /** The failure behind the current `$?`, when it is not 0. */
  lastFailure: Failure | undefined;

  constructor(options: InterpreterOptions = {}) {
    this.#o = options;
  }

  /** Runs `script`; resolves with its status (an `exit` ends it with that status). */
  async run(script: Script, state: ShellState, io: ShellIO): Promise<number> {
    try {
      await this.#script(script, state, io);
    } catch (e) {
      if (e instanceof ExitRequest) {
        state.status = e.status;
        if (e.status === 0) this.lastFailure = undefined;
        else
          this.lastFailure ??= {
            stage: 'exit',
            index: 0,
            cause: new StatusError(e.status, `exit ${e.status}`),
          };
      } else throw e;
    }
    return state.status;
  }

  #checkAbort(): void {
    const s = this.#o.signal;
    if (s?.aborted) throw s.reason;
  }

  async #script(script: Script, state: ShellState, io: ShellIO): Promise<void> {
    for (const st of script.statements) {
      this.#checkAbort();
      const { status, checked } = await this.#statement(st, state, io);
      if (status !== 0 && checked && state.flags.errexit) throw new ExitRequest(status);
    }
  }

  async #statement(
    st: Statement,
    state: ShellState,
    io: ShellIO,
  ): Promise<{ status: number; checked: boolean }> {
    let status = await this.#pipeline(st.first, state, io);
    let last = st.first;
    let lastIndex = 0;
    for (let i = 0; i < st.rest.length; i++) {
      const { op, pipeline } = st.rest[i]!;
      if ((op === '&&') !== (status === 0)) continue;
      this.#checkAbort();
      status = await this.#pipeline(pipeline, state, io);
      last = pipeline;
      lastIndex = i + 1;
    }
    // `set -e` looks only at the final pipeline of the list, when it ran and was not negated.
    return { status, checked: lastIndex === st.rest.length && !last.negated };
  }

  async #pipeline(node: PipelineNode, state: ShellState, io: ShellIO): Promise<number> {
    let status: number;
    if (node.commands.length === 1 && node.commands[0]!.type === 'group') {
      status = await this.#group(node.commands[0] as Group, state, io);
    } else if (node.commands.length === 1) {
      status = await this.#single(node.commands[0] as SimpleCommand, state, io);
    } else status = await this.#multi(node.commands, state, io);
    if (node.negated) {
      status = status === 0 ? 1 : 0;
      this.lastFailure =
        status === 0
          ? undefined
          : { stage: '!', index: 0, cause: new StatusError(1, '! inverted a success') };
    }
    state.status = status;
    return status;
  }

  /** A group on its own: `{ …; }` in this state, `( … )` in a copy; its redirections around it. */
  async #group(g: Group, state: ShellState, io: ShellIO): Promise<number> {
    let redirections: ResolvedRedirection[];
    try {
      redirections = await this.#redirections(g.redirections, state, io);
    } catch (e) {
      return this.#softFailure(e, '(', io);
    }
    let opened: ReturnType<typeof redirectIO>;
    try {
      opened = redirectIO(io, redirections, state.cwd);
    } catch (e) {
      return this.#softFailure(e, '(', io);
    }
    try {
      if (!g.subshell) {
        await this.#script(g.body, state, opened.io);
        return state.status;
      }
      const sub = state.clone();
      return await this.run(g.body, sub, opened.io);
    } finally {
      opened.close();
    }
  }

  /** A status from a redirection or builtin failure: reported on stderr, remembered for errors. */
  async #softFailure(e: unknown, stage: string, io: ShellIO): Promise<number> {
    if (!(e instanceof StatusError)) throw e;
    if (e.report) await writeText(io.stderr, `sluice: ${e.message}\n`).catch(() => {});
    this.lastFailure = { stage, index: 0, cause: e };
    return e.status;
  }

  /** One simple command alone: assignments, a builtin in this state, or a one-stage pipeline. */
  async #single(cmd: SimpleCommand, state: ShellState, io: ShellIO): Promise<number> {
    const ctx = this.#expandContext(state, io);
    if (cmd.words.length === 1 && cmd.assignments.length === 0 && cmd.redirections.length === 0) {
      const stage = this.#loneStage(cmd.words[0]!);
      if (stage) return this.#runStages([{ stage, label: stage.name }], state, io);
    }
    const subStatus = { value: undefined as number | undefined };
    const ctxTracking: ExpandContext = {
      ...ctx,
      substitute: async (body) => {
        const out = await ctx.substitute(body);
        subStatus.value = state.status;
        return out;
      },
    };
    if (cmd.words.length === 0) {
      // Assignments set shell variables; redirections are still performed (`> file` truncates).
      for (const a of cmd.assignments) {
        const v = await expandString(a.value, ctxTracking);
        state.vars.set(a.name, a.append ? (state.vars.get(a.name) ?? '') + v : v);
      }
      try {
        const r = await this.#redirections(cmd.redirections, state, io);
        redirectIO(io, r, state.cwd).close();
      } catch (e) {
        return this.#softFailure(e, 'redirection', io);
      }
      const status = subStatus.value ?? 0;
      if (status === 0) this.lastFailure = undefined;
      return status;
    }
    const argv = await this.#argv(cmd, ctxTracking);
    if (argv.length === 0) {
      // Every word expanded to nothing: bash runs no command; assignments stay local.
      const status = subStatus.value ?? 0;
      if (status === 0) this.lastFailure = undefined;
      return status;
    }
    this.#refuseAtRunTime(argv[0]!, cmd);
    if (BUILTINS.has(argv[0]!) && !(argv[0] === 'command' && argv[1] !== '-v')) {
      let opened: ReturnType<typeof redirectIO>;
      try {
        opened = redirectIO(io, await this.#redirections(cmd.redirections, state, io), state.cwd);
      } catch (e) {
        return this.#softFailure(e, argv[0]!, io);
      }
      try {
        const status = await this.#builtin(argv, state, opened.io);
        this.lastFailure =
          status === 0
            ? undefined
            : {
                stage: argv[0]!,
                index: 0,
                cause: new StatusError(status, `${argv.join(' ')}: status ${status}`),
              };
        return status;
      } finally {
        opened.close();
      }
    }
    const stage = await this.#external(cmd, argv, state, io, ctxTracking);
    return this.#runStages([{ stage, label: argv.join(' ') }], state, io);
  }

  /** A pipeline of two or more commands. */
  async #multi(commands: readonly CommandNode[], state: ShellState, io: ShellIO): Promise<number> {
    const planned: { stage: Stage; label: string }[] = [];
    for (const cmd of commands) {
      if (cmd.type === 'group') {
        planned.push({
          stage: this.#groupStage(cmd, state, io),
          label: cmd.subshell ? '( … )' : '{ … }',
        });
        continue;
      }
      if (cmd.words.length === 1 && cmd.assignments.length === 0 && cmd.redirections.length === 0) {
        const stage = this.#loneStage(cmd.words[0]!);
        if (stage) {
          planned.push({ stage, label: stage.name });
          continue;
        }
      }
      const ctx = this.#expandContext(state, io);
      const argv = await this.#argv(cmd, ctx);
      if (argv.length > 0) this.#refuseAtRunTime(argv[0]!, cmd);
      if (
        argv.length === 0 ||
        (BUILTINS.has(argv[0]!) && !(argv[0] === 'command' && argv[1] !== '-v'))
      ) {
        // A builtin (or nothing) in a pipeline runs on a copy of the state, as in a subshell.
        const sub = state.clone();
        const redirections = await this.#redirections(cmd.redirections, state, io).catch(
          (e: unknown) => e,
        );
        planned.push({
          stage: fn(argv[0] ?? 'assignment', async (_fctx, stdin, stdout) => {
            if (!Array.isArray(redirections)) throw redirections;
            const opened = redirectIO({ stdin, stdout, stderr: io.stderr }, redirections, sub.cwd);
            try {
              const status =
                argv.length === 0
                  ? 0
                  : await this.#builtin(argv, sub, opened.io).catch((e) => {
                      if (e instanceof ExitRequest) return e.status;
                      throw e;
                    });
              if (status !== 0)
                throw new StatusError(status, `${argv.join(' ')}: status ${status}`);
            } finally {
              opened.close();
            }
          }),
          label: argv.join(' '),
        });
        continue;
      }
      planned.push({
        stage: await this.#external(cmd, argv, state, io, ctx),
        label: argv.join(' '),
      });
    }
    return this.#runStages(planned, state, io);
  }

  #groupStage(g: Group, state: ShellState, io: ShellIO): Stage {
    return fn(g.subshell ? '( … )' : '{ … }', async (_fctx, stdin, stdout) => {
      const sub = state.clone();
      const inner = new Interpreter(this.#o);
      let status: number;
      try {
        status = await inner.#group({ ...g, subshell: false }, sub, {
          stdin,
          stdout,
          stderr: io.stderr,
        });
      } catch (e) {
        if (!(e instanceof ExitRequest)) throw e;
        status = e.status;
      }
      if (status !== 0)
        throw inner.lastFailure?.cause ?? new StatusError(status, `group: status ${status}`);
    });
  }

  async #builtin(argv: readonly string[], state: ShellState, io: ShellIO): Promise<number> {
    return runBuiltin(
      argv,
      state,
      { out: (t) => writeText(io.stdout, t), err: (t) => writeText(io.stderr, t) },
      async (text, file, args) => {
        const script = parseScript(text);
        const saved = state.positional;
        if (args.length > 0) state.positional = [file, ...args];
        try {
          await this.#script(script, state, io);
        } finally {
          if (args.length > 0) state.positional = saved;
        }
        return state.status;
      },
    );
  }

  /** A template value standing alone as a command that is a Stage: that stage. */
  #loneStage(word: Word): Stage | undefined {
    const p = word.parts[0];
    if (word.parts.length !== 1 || p?.type !== 'value') return undefined;
    const v = (this.#o.values ?? [])[p.index];
    return isStage(v) ? v : undefined;
  }

  #refuseAtRunTime(name: string, cmd: SimpleCommand): void {
    const why = REFUSED_BUILTINS[name];
    if (why)
      throw new ShellUnsupportedError(`'${name}'`, why, {
        line: cmd.line,
        column: cmd.column,
        offset: 0,
      });
  }

  /** The words of a command, expanded; `export NAME=value` arguments are not split or globbed. */
  async #argv(cmd: SimpleCommand, ctx: ExpandContext): Promise<string[]> {
    const argv: string[] = [];
    for (const w of cmd.words) {
      const declaration = argv[0] === 'export' || (argv.length === 0 && false);
      const p = w.parts[0];
      if (
        declaration &&
        p?.type === 'literal' &&
        !p.quoted &&
        /^[A-Za-z_][A-Za-z0-9_]*=/.test(p.text)
      ) {
        argv.push(await expandString(w, ctx));
      } else argv.push(...(await expandWord(w, ctx)));
    }
    return argv;
  }

  async #external(
    cmd: SimpleCommand,
    argv: string[],
    state: ShellState,
    io: ShellIO,
    ctx: ExpandContext,
  ): Promise<Stage> {
    if (argv[0] === 'command') argv = argv.slice(1);
    const extra = new Map<string, string>();
    for (const a of cmd.assignments) {
      const v = await expandString(a.value, ctx);
      extra.set(a.name, a.append ? (state.vars.get(a.name) ?? '') + v : v);
    }
    const redirections = await this.#redirections(cmd.redirections, state, io).catch(
      (e: unknown) => e,
    );
    if (!Array.isArray(redirections)) {
      if (!(redirections instanceof StatusError)) throw redirections;
      const err = redirections;
      return fn(argv[0]!, () => Promise.reject(err), { stdin: 'any', stdout: 'any' });
    }
    return new ShellCommandStage(argv, {
      redirections,
      env: state.envChanges(extra.size > 0 ? extra : undefined),
      stderr: io.stderr,
      name: argv[0]!,
    });
  }

  #redirections(
    list: readonly Redirection[],
    state: ShellState,
    io: ShellIO,
  ): Promise<ResolvedRedirection[]> {
    return resolveRedirections(list, this.#expandContext(state, io));
  }

  #expandContext(state: ShellState, io: ShellIO): ExpandContext {
    return {
      state,
      values: this.#o.values ?? [],
      noMatch: this.#o.noMatch ?? 'error',
      substitute: (body) => this.#substitute(body, state, io),
    };
  }

  /** Runs `$(…)` on a copy of the state; its status becomes `$?`. */
  async #substitute(body: Script, state: ShellState, io: ShellIO): Promise<string> {
    const max = this.#o.maxSubstitutionBytes ?? DEFAULT_MAX_SUBSTITUTION;
    const chunks: Buffer[] = [];
    let size = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) {
          cb(
            new ShellExpansionError(
              'ERR_SLUICE_SHELL_SUBSTITUTION_TOO_LARGE',
              `a command substitution produced more than ${max} bytes`,
              1,
            ),
          );
          return;
        }
        chunks.push(chunk);
        cb();
      },
    });
    sink.on('error', () => {});
    const sub = state.clone();
    const inner = new Interpreter(this.#o);
    const status = await inner.run(body, sub, { stdin: io.stdin, stdout: sink, stderr: io.stderr });
    if (size > max)
      throw new ShellExpansionError(
        'ERR_SLUICE_SHELL_SUBSTITUTION_TOO_LARGE',
        `a command substitution produced more than ${max} bytes`,
        1,
      );
    state.status = status;
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Runs stages as one pipeline with `io`'s ends; resolves with the pipeline's status. */
  async #runStages(
    planned: { stage: Stage; label: string }[],
    state: ShellState,
    io: ShellIO,
  ): Promise<number> {
    const { status, failure } = await runStages(planned, state, io, this.#o);
    this.#checkAbort();
    this.lastFailure = failure;
    return status;
  }
}
