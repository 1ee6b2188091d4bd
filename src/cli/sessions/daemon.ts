/**
 * `sluice daemon`: runs the sessions daemon in the foreground until SIGTERM, SIGINT or SIGHUP (or
 * `sluice shutdown`), then stops every session (grandchildren included) and exits 0. Its log goes
 * to stderr, or to `--log-file`.
 *
 * `--detach` runs it in the background instead (see daemon-detach.ts): the command returns once
 * the daemon answers, printing its pid, socket and log file (by default the socket path with
 * `.log`: `/tmp/sluice-<uid>/daemon.log`); `sluice shutdown` stops it.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  parseDuration,
  parsePositiveInt,
  parseSize,
  refuseTilde,
  SOCKET_ADVICE,
  socketOption,
} from './client-util.js';
import { NOTIFY_READY_FLAG, type ReadyReport, startDetached } from './daemon-detach.js';
import { DaemonLog } from './daemon-log.js';

interface DaemonFlags {
  socket?: string;
  logDir?: string;
  logMaxBytes?: number;
  logKeep?: number;
  logMaxTotal?: number;
  grace?: number;
  shutdownGrace?: number;
  maxConnections?: number;
  helloTimeout?: number;
  quiet?: boolean;
  untilStdinCloses?: boolean;
  http?: string;
  httpAllowRemote?: boolean;
  logFile?: string;
  detach?: boolean;
  notifyReady?: boolean;
}

function parseKeep(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 1000) {
    throw new InvalidArgumentError(`'${text}' is not a count from 0 to 1000`);
  }
  return n;
}

export function register(program: Command): void {
  const cmd = program
    .command('daemon')
    .description('run the sessions daemon (in the foreground, or in the background with --detach)')
    .option(
      '--detach',
      'run in the background: return once it answers, print its pid, socket and log file; stop it with sluice shutdown',
    )
    .option(
      '--log-file <path>',
      "write the daemon's log to this file instead of stderr (default with --detach: the socket path with .log)",
    )
    .option('--log-dir <dir>', 'also spool every stream to files in this folder')
    .option('--log-max-bytes <size>', 'rotate a spooled file at this size (default 10M)', parseSize)
    .option('--log-keep <n>', 'rotated files kept per stream (default 3)', parseKeep)
    .option(
      '--log-max-total <size>',
      'budget for all spooled files together (default 1G)',
      parseSize,
    )
    .option(
      '--grace <duration>',
      'at shutdown, each session gets SIGTERM, then SIGKILL after this long (default 5s)',
      parseDuration,
    )
    .option('--shutdown-grace <duration>', 'the old name of --grace (deprecated)', parseDuration)
    .option(
      '--max-connections <n>',
      'clients served at once; one more is refused as busy (default 256)',
      parsePositiveInt,
    )
    .option(
      '--hello-timeout <duration>',
      'close a connection that has not said hello after this long (default 10s)',
      parseDuration,
    )
    .option('-q, --quiet', 'log nothing but errors')
    .option(
      '--http <[host:]port>',
      'also serve the dashboard and /metrics here (loopback only unless --http-allow-remote; port 0 picks one)',
    )
    .option(
      '--http-allow-remote',
      'let --http listen on an address other machines can reach (anyone with the token drives every session)',
    )
    .option(
      '--until-stdin-closes',
      'also shut down when stdin reaches EOF (a supervising process that dies takes the daemon with it)',
    )
    .addOption(new Option(NOTIFY_READY_FLAG).hideHelp());
  socketOption(cmd).action(async (flags: DaemonFlags, command: Command) => {
    if (flags.detach) {
      if (flags.untilStdinCloses) {
        command.error('--detach and --until-stdin-closes do not go together', {
          exitCode: 2,
          code: 'sluice.usage',
        });
      }
      await detach(flags);
    } else await runDaemon(flags);
  });
}

/** `--detach`: starts the daemon in the background and says where it is. */
async function detach(flags: DaemonFlags): Promise<void> {
  checkPaths(flags);
  const { defaultSocketPath } = await import('../../sessions/index.js');
  const ready: ReadyReport = await startDetached(
    flags.socket ?? defaultSocketPath(),
    flags.logFile,
  );
  process.stdout.write(
    `sluice daemon: running in the background (pid ${ready.pid}), socket ${ready.socket}, log ${ready.logFile}; stop it with sluice shutdown\n`,
  );
  if (ready.dashboard) process.stdout.write(`sluice dashboard: ${ready.dashboard}\n`);
}

/** The daemon's option names and the flags that set them. */
const FLAG_OF: Record<string, string> = {
  logDir: '--log-dir',
  maxBytes: '--log-max-bytes',
  keep: '--log-keep',
  maxTotalBytes: '--log-max-total',
  graceMs: '--grace',
  maxConnections: '--max-connections',
  helloTimeoutMs: '--hello-timeout',
  http: '--http',
};

/**
 * A bad option's message as the command line says it: the flag instead of the library's option
 * name, and a system error as words (`operation not permitted`, not `EPERM: …, mkdir '/x'`).
 */
export function inFlagWords(option: string, message: string): string {
  const flag = FLAG_OF[option] ?? option;
  const rest = message.startsWith(`${option}: `) ? message.slice(option.length + 2) : message;
  return `${flag}: ${rest.replace(/\b[A-Z]{3,}: ([^,]+), \w+ '[^']*'/g, '$1').replace('allowRemote is off', 'add --http-allow-remote to serve other machines')}`;
}

/** Paths with a `~` that no shell expanded are refused before anything starts. */
function checkPaths(flags: DaemonFlags): void {
  refuseTilde(flags.socket, '--socket');
  if (flags.socket === undefined) refuseTilde(process.env.SLUICE_SOCKET, 'SLUICE_SOCKET');
  if (flags.socket === undefined && !process.env.SLUICE_SOCKET) {
    refuseTilde(process.env.XDG_RUNTIME_DIR, 'XDG_RUNTIME_DIR');
  }
  refuseTilde(flags.logFile, '--log-file');
  refuseTilde(flags.logDir, '--log-dir');
}

/**
 * A start-up error about where the socket is, in a shell user's words, with what to do: the
 * daemon's own refusals (an unsafe or foreign folder, a path too long) and the system's (a folder
 * that cannot be created: `EACCES: permission denied, mkdir '/x'`).
 */
function socketPlaceError(
  e: unknown,
  socketPath: string,
  SocketPathError: abstract new (...a: never[]) => Error,
): unknown {
  if (e instanceof SocketPathError) {
    // "already listening" says what to do itself (stop it, or --socket).
    return e.message.includes('--socket') ? e : new Error(`${e.message}; ${SOCKET_ADVICE}`);
  }
  const sys = e as NodeJS.ErrnoException;
  if (e instanceof Error && sys.syscall && sys.path && socketPath.startsWith(sys.path)) {
    const why = sys.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    return new Error(
      `cannot ${sys.syscall} ${sys.path} for the daemon socket: ${why}; ${SOCKET_ADVICE}`,
    );
  }
  return e;
}

/** Runs the daemon in the foreground until a signal (or stdin's end) stops it; then exits. */
async function runDaemon(flags: DaemonFlags): Promise<void> {
  const quiet = flags.quiet === true;
  checkPaths(flags);
  const log = new DaemonLog(flags.logFile === undefined);
  // Loaded here, not at the top: the other subcommands need none of the daemon's modules.
  const { SessionDaemon, SocketPathError, defaultSocketPath, InvalidOptionError } = await import(
    '../../sessions/index.js'
  );
  const socketPath = flags.socket ?? defaultSocketPath();
  const daemon = await SessionDaemon.start({
    socketPath,
    logDir: flags.logDir,
    spool: {
      maxBytes: flags.logMaxBytes,
      keep: flags.logKeep,
      maxTotalBytes: flags.logMaxTotal,
    },
    graceMs: flags.grace ?? flags.shutdownGrace,
    // This process runs nothing but sessions: it may adopt their orphans.
    adoptOrphans: true,
    maxConnections: flags.maxConnections,
    helloTimeoutMs: flags.helloTimeout,
    log: quiet ? null : (line) => log.line(line),
    http: flags.http
      ? { listen: flags.http, allowRemote: flags.httpAllowRemote === true }
      : undefined,
  }).catch((e: unknown) => {
    if (e instanceof InvalidOptionError) throw new Error(inFlagWords(e.option, e.message));
    throw socketPlaceError(e, socketPath, SocketPathError);
  });
  if (flags.logFile !== undefined) {
    try {
      // Now that the socket's folder is known to be safe (the default log file lives there).
      log.toFile(flags.logFile);
    } catch (e) {
      await daemon.shutdown('the log file could not be opened');
      throw new Error(`cannot open the log file ${flags.logFile}: ${(e as Error).message}`);
    }
  }
  // A stdout nobody reads (a closed pipe, a parent gone) must not become an internal error that
  // stops the daemon.
  process.stdout.on('error', () => {});
  if (flags.notifyReady) {
    // The parent of `--detach` waits for this one line, then goes away: from here on nothing is
    // written to this process's stdout or stderr.
    const ready: ReadyReport = {
      pid: process.pid,
      socket: daemon.socketPath,
      logFile: flags.logFile ?? '',
      dashboard: daemon.dashboard?.url ?? null,
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    log.leaveStderr();
  } else if (daemon.dashboard) {
    // The one line a user needs, on stdout even with --quiet: the address with its token.
    process.stdout.write(`sluice dashboard: ${daemon.dashboard.url}\n`);
  }
  const stop = (signal: NodeJS.Signals) => {
    void daemon.shutdown(signal);
  };
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, stop);
  if (flags.untilStdinCloses) {
    // The kernel closes the pipe when its writer dies, however it dies (SIGKILL included):
    // the one parent-death signal that needs no cooperation from the parent.
    process.stdin.on('end', () => stop('SIGTERM')).on('error', () => stop('SIGTERM'));
    process.stdin.resume();
  }
  // Anything unforeseen still ends in an orderly stop: no session may outlive the daemon.
  process.on('uncaughtException', (error) => {
    log.raw(`sluice daemon: internal error: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
    void daemon.shutdown('internal error');
  });
  await daemon.closed;
  for (const signal of signals) process.off(signal, stop);
  log.close();
  // Every session and connection is gone; anything left (a stuck stdout) must not keep us up.
  process.exit(process.exitCode ?? 0);
}
