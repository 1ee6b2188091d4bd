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
import { parseDuration, parsePositiveInt, parseSize, socketOption } from './client-util.js';
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
  const { defaultSocketPath } = await import('../sessions/index.js');
  const ready: ReadyReport = await startDetached(
    flags.socket ?? defaultSocketPath(),
    flags.logFile,
  );
  process.stdout.write(
    `sluice daemon: running in the background (pid ${ready.pid}), socket ${ready.socket}, log ${ready.logFile}; stop it with sluice shutdown\n`,
  );
  if (ready.dashboard) process.stdout.write(`sluice dashboard: ${ready.dashboard}\n`);
}

/** Runs the daemon in the foreground until a signal (or stdin's end) stops it; then exits. */
async function runDaemon(flags: DaemonFlags): Promise<void> {
  const quiet = flags.quiet === true;
  const log = new DaemonLog(flags.logFile === undefined);
  // Loaded here, not at the top: the other subcommands need none of the daemon's modules.
  const { SessionDaemon } = await import('../sessions/index.js');
  const daemon = await SessionDaemon.start({
    socketPath: flags.socket,
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
