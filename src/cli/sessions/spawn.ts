/**
 * `sluice spawn [--pty] [--merge-stderr] [--cwd DIR] [--env K=V]... [--originator NAME] -- ARGV...`:
 * starts a session in the daemon and prints its id (or, with `--json`, the session).
 *
 * The child runs in the daemon's environment with each `--env` laid over it, in `--cwd` (default:
 * this shell's working directory). `--restart always|on-failure [--max-restarts N]
 * [--backoff DELAY[,MAX]]` starts the program again when it exits on its own, on the supervisor's
 * restart policy: the session keeps its id, backlog and attachments, a marker line in the backlog
 * tells each restart, and `ls` shows the restarts and the last exit. A PTY gets `--rows`/`--cols`, else the size of whichever of
 * stdout, stderr, stdin or `/dev/tty` is a terminal, else 24×80.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { terminalSize } from '../../sessions/index.js';
import {
  jsonOption,
  parseDuration,
  parsePositiveInt,
  printJson,
  socketOption,
  usageError,
  withClient,
} from './client-util.js';

interface SpawnFlags {
  pty?: boolean;
  mergeStderr?: boolean;
  cwd?: string;
  env?: Record<string, string>;
  originator?: string;
  rows?: number;
  cols?: number;
  restart?: 'always' | 'on-failure';
  maxRestarts?: number;
  backoff?: { backoffMs: number; maxBackoffMs?: number };
  json?: boolean;
  socket?: string;
}

function parseRestartWhen(text: string): 'always' | 'on-failure' {
  if (text === 'always' || text === 'on-failure') return text;
  throw new InvalidArgumentError(`'${text}' is not always or on-failure`);
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`'${text}' is not a whole number`);
  }
  return n;
}

/** `500ms` (the first delay) or `500ms,1m` (the first delay, then doubling up to the second). */
function parseBackoff(text: string): { backoffMs: number; maxBackoffMs?: number } {
  const [first, max, extra] = text.split(',');
  if (first === undefined || extra !== undefined) {
    throw new InvalidArgumentError(`'${text}' is not DELAY or DELAY,MAX (example: 200ms,30s)`);
  }
  const backoffMs = parseDuration(first);
  if (max === undefined) return { backoffMs };
  const maxBackoffMs = parseDuration(max);
  if (maxBackoffMs < backoffMs) {
    throw new InvalidArgumentError(`'${text}': the maximum is below the first delay`);
  }
  return { backoffMs, maxBackoffMs };
}

function collectEnv(pair: string, into: Record<string, string> = {}): Record<string, string> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`'${pair}' is not K=V`);
  into[pair.slice(0, eq)] = pair.slice(eq + 1);
  return into;
}

/**
 * The hint for an option spawn does not know: the same command line with `--` before the
 * program (the first word that is not spawn's own option or its value).
 */
function dashDashHint(cmd: Command): string | undefined {
  const args = process.argv.slice(process.argv.indexOf('spawn') + 1);
  const takesValue = new Set(
    cmd.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]),
  );
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += takesValue.has(args[i]) ? 2 : 1;
  if (i >= args.length) return undefined; // no program: a mistyped option of spawn's own
  const quote = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
  const line = ['sluice', 'spawn', ...args.slice(0, i), '--', ...args.slice(i)].map(quote);
  return `put -- before the program and its arguments: ${line.join(' ')}`;
}

export function register(program: Command): void {
  const cmd = program
    .command('spawn')
    .description('start a session in the daemon; prints its id')
    .argument('<argv...>', 'the program and its arguments (put them after --)')
    .option('--pty', 'run on a pseudo-terminal instead of pipes')
    .option('--merge-stderr', 'send stderr into the stdout stream (pipe sessions)')
    .option('--cwd <dir>', "the child's working directory (default: this one)")
    .option('--env <K=V>', 'an environment variable for the child (repeatable)', collectEnv)
    .option('--originator <name>', 'who started it; ls and purge filter on it')
    .option('--rows <n>', 'PTY rows (default: this terminal, else 24)', parsePositiveInt)
    .option('--cols <n>', 'PTY columns (default: this terminal, else 80)', parsePositiveInt)
    .option(
      '--restart <when>',
      'start the program again when it exits on its own: always or on-failure',
      parseRestartWhen,
    )
    .option(
      '--max-restarts <n>',
      'give up after this many restarts in a row that did not stay up 1 s (default 10)',
      parseCount,
    )
    .option(
      '--backoff <delay[,max]>',
      'wait before the first restart, doubling up to max (default 100ms,30s)',
      parseBackoff,
    );
  jsonOption(socketOption(cmd));
  // `sluice spawn ls -la`: the program's options are taken for spawn's own; say what to do.
  const { outputError } = cmd.configureOutput();
  cmd.configureOutput({
    outputError: (text, write) => {
      const hint = text.startsWith("error: unknown option '") ? dashDashHint(cmd) : undefined;
      outputError!(hint ? `${text.trimEnd()}; ${hint}\n` : text, write);
    },
  });
  cmd.action(async (argv: string[], flags: SpawnFlags, command: Command) => {
    // Whichever of stdout, stderr, stdin or /dev/tty is a terminal: `id=$(sluice spawn --pty …)`
    // captures stdout, yet the terminal is still there.
    const tty =
      flags.pty && (flags.rows === undefined || flags.cols === undefined)
        ? terminalSize()
        : undefined;
    const pty = flags.pty
      ? { rows: flags.rows ?? tty?.rows ?? 24, cols: flags.cols ?? tty?.cols ?? 80 }
      : undefined;
    if (!flags.pty && (flags.rows !== undefined || flags.cols !== undefined)) {
      usageError(command, '--rows and --cols need --pty');
    }
    if (!flags.restart && (flags.maxRestarts !== undefined || flags.backoff !== undefined)) {
      usageError(command, '--max-restarts and --backoff need --restart');
    }
    const restart = flags.restart
      ? {
          when: flags.restart,
          ...(flags.maxRestarts === undefined ? {} : { maxRestarts: flags.maxRestarts }),
          ...(flags.backoff ?? {}),
        }
      : undefined;
    const session = await withClient(flags, (client) =>
      client.spawn({
        argv,
        cwd: resolve(flags.cwd ?? process.cwd()),
        env: flags.env,
        originator: flags.originator,
        mergeStderr: flags.mergeStderr,
        pty,
        restart,
      }),
    );
    if (flags.json) printJson(session);
    else process.stdout.write(`${session.id}\n`);
  });
}
