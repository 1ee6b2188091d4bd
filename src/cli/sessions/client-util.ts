/**
 * What the session subcommands share: the `--socket` and `--json` options, connecting with a
 * clear error (and a hint to start the daemon when none answers), and small parsers.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ExitInfo, WireSessionInfo } from '../../sessions/index.js';
import {
  DaemonAccessError,
  DaemonNotRunningError,
  SessionsClient,
  SessionsRequestError,
} from '../../sessions/index.js';

/**
 * Fails the command line as a usage error: one line `sluice: MESSAGE (see --help)` on stderr and
 * exit status 2, as for the errors commander finds itself (for option combinations it cannot
 * check, such as `--rows` without `--pty`).
 */
export function usageError(command: Command, message: string): never {
  return command.error(message, { exitCode: 2, code: 'sluice.usage' });
}

/** Adds `--socket PATH` to a subcommand. */
export function socketOption(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '--socket <path>',
      'the daemon socket (default: $SLUICE_SOCKET, $XDG_RUNTIME_DIR/sluice/daemon.sock, /tmp/sluice-<uid>/daemon.sock)',
    ),
  );
}

/** Adds `--json` to a subcommand that prints data. */
export function jsonOption(cmd: Command): Command {
  return cmd.option('--json', 'print JSON instead of text');
}

/** What to do about a socket location that cannot be used, said for a shell. */
export const SOCKET_ADVICE =
  'use a socket of your own: --socket PATH, or set SLUICE_SOCKET (or XDG_RUNTIME_DIR, whose sluice/ folder is used)';

/**
 * Refuses a path that starts with `~` (from `--socket=~/x`, or a quoted `SLUICE_SOCKET='~/x'`):
 * only a shell expands `~`, and not after `=`, so it would name a folder called `~`.
 */
export function refuseTilde(path: string | undefined, what: string): void {
  if (path?.startsWith('~')) {
    throw new Error(
      `${what} ${path} starts with ~, which is not expanded there: write $HOME${path.slice(1)} (or an absolute path)`,
    );
  }
}

/**
 * Connects to the daemon named by `--socket` (or the default). Errors are one clear line; one
 * about the socket's place says how to choose another.
 */
export async function connectClient(options: { socket?: string }): Promise<SessionsClient> {
  refuseTilde(options.socket, '--socket');
  if (options.socket === undefined) refuseTilde(process.env.SLUICE_SOCKET, 'SLUICE_SOCKET');
  try {
    return await SessionsClient.connect({
      socketPath: options.socket,
      clientName: `sluice-cli/${process.pid}`,
    });
  } catch (e) {
    if (e instanceof DaemonAccessError) throw new Error(`${e.message}; ${SOCKET_ADVICE}`);
    if (e instanceof DaemonNotRunningError && e.message.endsWith(e.hint)) {
      // In a shell, the daemon to start is one in the background: `sluice daemon` alone would
      // hold this terminal.
      const at = options.socket === undefined ? '' : ` --socket ${options.socket}`;
      e.message = `${e.message.slice(0, -e.hint.length)}start one with \`sluice daemon --detach${at}\``;
    }
    throw e;
  }
}

/** System error codes as `strerror` words, for the ones a spawn or a path meets. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOEXEC: 'not an executable format',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  EAGAIN: 'resource temporarily unavailable (too many processes?)',
  ENOMEM: 'out of memory',
};

/** The library's option names in a daemon's answer, as the command line calls them. */
const OPTION_WORDS: [RegExp, string][] = [
  [/^argv(\[0\])?: is empty: nothing to run/, 'the program name is empty: nothing to run'],
  [/^argv\[0\]: /, 'the program: '],
  [/^argv: /, 'the command: '],
  [/^cwd: /, '--cwd: '],
  [/^env: /, '--env: '],
];

/**
 * A daemon's answer in a shell user's words: `--cwd` and `--env` rather than the library's option
 * names, and `no such file or directory` rather than `ENOENT`.
 */
export function forShell(message: string): string {
  let out = message;
  for (const [pattern, words] of OPTION_WORDS) out = out.replace(pattern, words);
  return out.replace(/\b(E[A-Z]{2,})\b/g, (code) => ERRNO_WORDS[code] ?? code);
}

/**
 * Runs `fn` with a connected client and closes it afterwards, whatever happens. A daemon's error
 * keeps its class and code; its message is put in a shell user's words (`forShell`).
 */
export async function withClient<T>(
  options: { socket?: string },
  fn: (client: SessionsClient) => Promise<T>,
): Promise<T> {
  const client = await connectClient(options);
  try {
    return await fn(client);
  } catch (e) {
    if (e instanceof SessionsRequestError) e.message = forShell(e.message);
    throw e;
  } finally {
    await client.close();
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration: `500ms`, `2s`, `1.5s`, `1m`, `1h`; a bare number is seconds (as for
 * `timeout` and `sleep`). Returns milliseconds. Throws commander's `InvalidArgumentError`.
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) {
    throw new InvalidArgumentError(`'${text}' is not a duration (examples: 500ms, 2s, 1m)`);
  }
  const ms = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (!Number.isFinite(ms) || ms > 24 * 3_600_000) {
    throw new InvalidArgumentError(`'${text}' is out of range (at most 24h)`);
  }
  return Math.round(ms);
}

/** Parses a positive integer option. */
export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`'${text}' is not a positive integer`);
  }
  return n;
}

/** Parses a byte size: `1048576`, `64k`, `10M`, `1G` (powers of 1024). */
export function parseSize(text: string): number {
  const m = /^(\d+)([kmg]i?b?|b)?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`'${text}' is not a size (examples: 65536, 64k, 10M)`);
  const unit = (m[2] ?? 'b')[0]!.toLowerCase();
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const n = Number(m[1]) * mult;
  if (n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`'${text}' is out of range`);
  return n;
}

/** `exit 0`, `signal SIGTERM`: how a session ended, briefly. */
export function describeExit(x: ExitInfo): string {
  return x.signal ? `signal ${x.signal}` : `exit ${x.exitCode}`;
}

/** The process exit code that mirrors a session's: its code, or 128 + the signal number. */
export function exitCodeOf(x: ExitInfo, signals: Record<string, number>): number {
  if (x.signal) return 128 + (signals[x.signal] ?? 0);
  return x.exitCode ?? 1;
}

/** Prints a value as JSON on one line. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The `state` column of `ls`: `running`, `exited(0)` or `exited(SIGTERM)`. */
export function stateColumn(s: WireSessionInfo): string {
  if (!s.exitInfo) return 'running';
  return `exited(${s.exitInfo.signal ?? s.exitInfo.exitCode})`;
}

/** Writes `data` to stdout and resolves once it was accepted (waits on backpressure). */
export function writeOut(data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(data)) resolve();
    else {
      const onDrain = () => {
        process.stdout.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        process.stdout.off('drain', onDrain);
        reject(e);
      };
      process.stdout.once('drain', onDrain);
      process.stdout.once('error', onError);
    }
  });
}
