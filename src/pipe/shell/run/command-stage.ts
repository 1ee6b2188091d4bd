/**
 * One simple command of a script as a pipeline stage: the program, its environment and its
 * redirections, applied left to right to fds 0, 1 and 2 as bash applies them, around a
 * `CommandStage` that does the spawning, the process group and the stopping.
 *
 * Failures bash reports without stopping the script are this stage's status, not a start
 * failure of the whole pipeline: a redirection file that cannot be opened (status 1) and a
 * program not found on PATH (127) close the stage's streams at once, so its neighbours see EOF
 * or SIGPIPE and carry on, as in bash (`nosuchcmd | wc -l` prints 0).
 */
import { accessSync, closeSync, constants, openSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { InputStream, OutputStream } from '../../pipeline/streams.js';
import type { ExitInfo, ProcessStage, StageContext, StagePreferences } from '../../stage.js';
import { CommandStage, type StderrOption } from '../../stages/command.js';
import { StatusError } from '../errors.js';
import type { StreamValue } from '../expansion/values.js';

/** A redirection with its target expanded, ready to apply. */
export type ResolvedRedirection =
  | { fd: number; kind: 'file'; path: string; mode: 'r' | 'w' | 'a' | 'rw' }
  | { fd: number; kind: 'dup'; from: number }
  | { fd: number; kind: 'data'; data: Uint8Array }
  | { fd: number; kind: 'value'; value: StreamValue };

/** What a slot (fd 0, 1 or 2) of the command holds while redirections are applied. */
type Slot =
  | { t: 'stdin' }
  | { t: 'stdout' }
  | { t: 'stderr' }
  | { t: 'fd'; fd: number }
  | { t: 'data'; data: Uint8Array }
  | { t: 'readable'; stream: Readable }
  | { t: 'writable'; stream: Writable };

/** Options of a shell command stage. */
export interface ShellCommandOptions {
  /** The redirections, in source order. */
  redirections: readonly ResolvedRedirection[];
  /**
   * The command's environment over `process.env` (`undefined` removes a variable); the
   * pipeline's own `env` layer is not used.
   */
  env: Record<string, string | undefined> | undefined;
  /** Where stderr goes when no redirection moves it. */
  stderr: StderrOption;
  /** The stage's name in errors and events. */
  name: string;
}

const FOUND = new Map<string, string>();

/** Why a path cannot be run: a directory, or missing. */
function pathProblem(p: string): string | undefined {
  try {
    return statSync(p).isDirectory() ? 'Is a directory' : undefined;
  } catch {
    return undefined;
  }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `file` as bash would before running it: with a `/`, the path; else each PATH entry. */
export function findProgram(
  file: string,
  path: string | undefined,
  cwd: string,
): string | undefined {
  const usable = (p: string) => {
    try {
      return !statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (file.includes('/')) return usable(resolve(cwd, file)) ? resolve(cwd, file) : undefined;
  // Like bash's command hash: a program found once is looked for there first.
  const key = `${path}\0${cwd}\0${file}`;
  const cached = FOUND.get(key);
  if (cached !== undefined && usable(cached)) return cached;
  let found: string | undefined;
  for (const dir of (path ?? '').split(':')) {
    const p = resolve(cwd, dir || '.', file);
    if (!usable(p)) continue;
    try {
      accessSync(p, constants.X_OK);
      if (FOUND.size > 1000) FOUND.clear();
      FOUND.set(key, p);
      return p;
    } catch {
      found ??= p; // exists but not executable: spawning it reports EACCES (126)
    }
  }
  return found;
}

/** The stage; see the module comment. */
export class ShellCommandStage implements ProcessStage {
  readonly name: string;
  readonly preferences: StagePreferences = { stdin: 'fd', stdout: 'fd' };
  readonly argv: readonly string[];
  readonly #options: ShellCommandOptions;
  #inner: CommandStage | undefined;
  #done: Promise<void> | undefined;

  constructor(argv: readonly string[], options: ShellCommandOptions) {
    this.argv = argv;
    this.name = options.name;
    this.#options = options;
  }

  /** The child's pid once started (see `CommandStage`). */
  get pid(): number | undefined {
    return this.#inner?.pid;
  }

  /** How the child ended, once it has; undefined when it never ran (a soft failure). */
  get exitInfo(): ExitInfo | undefined {
    return this.#inner?.exitInfo;
  }

  /** Stops the child's group, as `CommandStage.kill`. */
  kill(reason: unknown): void {
    this.#inner?.kill(reason);
  }

  start(ctx: StageContext, stdin: InputStream, stdout: OutputStream): void {
    const cwd = ctx.cwd ?? process.cwd();
    const owned: number[] = [];
    const closeOwned = () => {
      for (const fd of owned.splice(0)) {
        try {
          closeSync(fd);
        } catch {}
      }
    };
    const softFail = ({ status, message, cause }: SoftFailure) => {
      closeOwned();
      stdin.close();
      stdout.close();
      this.#done = Promise.reject(new StatusError(status, message, { cause, report: true }));
      this.#done.catch(() => {});
    };
    const slots = applyRedirections(this.#options.redirections, cwd, owned);
    if (!Array.isArray(slots)) {
      softFail(slots);
      return;
    }
    const [file, ...args] = this.argv;
    const env = this.#options.env;
    const missing = programFailure(file!, env, cwd);
    if (missing !== undefined) {
      softFail(missing);
      return;
    }
    // Where the original stdout ends up decides whether it is kept open until the command ends.
    const usesStdin = slots[0]!.t === 'stdin';
    const usesStdout = slots[1]!.t === 'stdout';
    const stderrToStdout = slots[2]!.t === 'stdout';
    const input = inputOfSlot(slots[0]!, stdin);
    if (input === undefined) {
      softFail(notRedirectable(0, 'an output'));
      return;
    }
    if (!usesStdin) stdin.close();

    const errDefault = this.#options.stderr;
    const output = outputOfSlot(slots[1]!, stdout, errDefault);
    if (output === undefined) {
      softFail(notRedirectable(1, 'an input'));
      return;
    }

    const stderr = stderrOfSlot(slots[2]!, usesStdout, stdout, errDefault);
    if (stderr === undefined) {
      softFail(notRedirectable(2, 'an input'));
      return;
    }
    const keepStdout = !usesStdout && stderrToStdout;
    if (!usesStdout && !keepStdout) stdout.close();

    const inner = new CommandStage(file!, args, { name: this.name, env, stderr });
    this.#inner = inner;
    try {
      // The pipeline's env layer is empty for shell commands: `env` is complete.
      inner.start({ ...ctx, env: {} }, input, output);
    } catch (e) {
      closeOwned();
      if (keepStdout) stdout.close();
      throw e;
    }
    closeOwned();
    this.#done = keepStdout ? inner.wait().finally(() => stdout.close()) : inner.wait();
  }

  wait(): Promise<void> {
    return this.#done ?? Promise.reject(new StatusError(1, `${this.name}: wait before start`));
  }
}

/** A failure bash reports as the command's status without stopping the script. */
interface SoftFailure {
  status: number;
  message: string;
  cause?: unknown;
}

function notRedirectable(fd: number, what: string): SoftFailure {
  return { status: 1, message: `fd ${fd} cannot be redirected to ${what}` };
}

/**
 * Applies the redirections left to right to fds 0, 1 and 2. Files it opens are pushed on
 * `owned` (the caller closes them, on failure too); a file that cannot be opened is a failure.
 */
function applyRedirections(
  redirections: readonly ResolvedRedirection[],
  cwd: string,
  owned: number[],
): Slot[] | SoftFailure {
  const slots: Slot[] = [{ t: 'stdin' }, { t: 'stdout' }, { t: 'stderr' }];
  for (const r of redirections) {
    if (r.kind === 'file') {
      try {
        const flags = { r: 'r', w: 'w', a: 'a', rw: 'r+' }[r.mode];
        const path = isAbsolute(r.path) ? r.path : resolve(cwd, r.path);
        let fd: number;
        try {
          fd = openSync(path, flags, 0o666);
        } catch (e) {
          // `<>` creates the file when it is missing.
          if (r.mode !== 'rw' || (e as { code?: string }).code !== 'ENOENT') throw e;
          fd = openSync(path, 'w+', 0o666);
        }
        owned.push(fd);
        slots[r.fd] = { t: 'fd', fd };
      } catch (e) {
        return { status: 1, message: `${r.path}: ${describeErrno(e)}`, cause: e };
      }
    } else if (r.kind === 'dup') slots[r.fd] = slots[r.from]!;
    else if (r.kind === 'data') slots[r.fd] = { t: 'data', data: r.data };
    else {
      const v = r.value;
      slots[r.fd] =
        v.kind === 'bytes'
          ? { t: 'data', data: v.data }
          : v.kind === 'fd'
            ? { t: 'fd', fd: v.fd }
            : v.kind === 'readable'
              ? { t: 'readable', stream: v.stream }
              : { t: 'writable', stream: v.stream };
    }
  }
  return slots;
}

/** Why `file` cannot be run, as bash says it (126 or 127); undefined when it can. */
function programFailure(
  file: string,
  env: Record<string, string | undefined> | undefined,
  cwd: string,
): SoftFailure | undefined {
  const path = env && 'PATH' in env ? env.PATH : process.env.PATH;
  const program = findProgram(file, path, cwd);
  if (program === undefined) {
    // With a slash bash says what is wrong with the path; without one the program is missing.
    const slash = file.includes('/');
    const dir = slash && pathProblem(resolve(cwd, file)) === 'Is a directory';
    const why = dir ? 'Is a directory' : slash ? 'No such file or directory' : 'command not found';
    return { status: dir ? 126 : 127, message: `${file}: ${why}` };
  }
  if (!isExecutable(program)) return { status: 126, message: `${file}: Permission denied` };
  return undefined;
}

/** The command's stdin for what fd 0 holds; undefined when fd 0 holds an output. */
function inputOfSlot(s0: Slot, stdin: InputStream): InputStream | undefined {
  if (s0.t === 'stdin') return stdin;
  if (s0.t === 'fd') return InputStream.fd(s0.fd, { closing: false });
  if (s0.t === 'data')
    return InputStream.stream(Readable.from([Buffer.from(s0.data)]), { closing: true });
  if (s0.t === 'readable') return InputStream.stream(s0.stream, { closing: false });
  return undefined;
}

/** The command's stdout for what fd 1 holds; undefined when fd 1 holds an input. */
function outputOfSlot(
  s1: Slot,
  stdout: OutputStream,
  errDefault: StderrOption,
): OutputStream | undefined {
  if (s1.t === 'stdout') return stdout;
  if (s1.t === 'fd') return OutputStream.fd(s1.fd, { closing: false });
  if (s1.t === 'writable') return OutputStream.stream(s1.stream, { closing: false });
  if (s1.t === 'stderr') return outputOfStderr(errDefault);
  return undefined;
}

/** The command's stderr for what fd 2 holds; undefined when fd 2 holds an input. */
function stderrOfSlot(
  s2: Slot,
  usesStdout: boolean,
  stdout: OutputStream,
  errDefault: StderrOption,
): StderrOption | undefined {
  if (s2.t === 'stderr') return errDefault;
  if (s2.t === 'stdout') {
    if (usesStdout) return 'stdout';
    return stdout.kind === 'fd' ? stdout.fd : stdout.kind === 'stream' ? stdout.stream! : 'ignore';
  }
  if (s2.t === 'fd') return s2.fd;
  if (s2.t === 'writable') return s2.stream;
  return undefined;
}

/** fd 1 sent where stderr goes (`1>&2`). */
function outputOfStderr(err: StderrOption): OutputStream {
  if (err === 'inherit') return OutputStream.fd(2, { closing: false });
  if (typeof err === 'number') return OutputStream.fd(err, { closing: false });
  if (typeof err === 'object' && err !== null && 'write' in err) {
    return OutputStream.stream(err as Writable, { closing: false });
  }
  return OutputStream.none();
}

/** bash's wording for the errno of a failed open. */
export function describeErrno(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EEXIST':
      return 'cannot overwrite existing file';
    default:
      return code ?? String(e);
  }
}
