/**
 * `sluice daemon`: runs the sessions daemon in the foreground until SIGTERM, SIGINT or SIGHUP,
 * then stops every session (grandchildren included) and exits 0.
 */
import type { Command } from 'commander';
import { parseDuration, parsePositiveInt, parseSize, socketOption } from './client-util.js';

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
}

export function register(program: Command): void {
  const cmd = program
    .command('daemon')
    .description('run the sessions daemon in the foreground')
    .option('--log-dir <dir>', 'also spool every stream to files in this folder')
    .option('--log-max-bytes <size>', 'rotate a spooled file at this size (default 10M)', parseSize)
    .option('--log-keep <n>', 'rotated files kept per stream (default 3)', (t) => {
      const n = Number(t);
      if (!/^\d+$/.test(t) || n > 1000) throw new Error(`'${t}' is not a count from 0 to 1000`);
      return n;
    })
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
    );
  socketOption(cmd).action(runDaemon);
}

/** Runs the daemon in the foreground until a signal (or stdin's end) stops it; then exits. */
async function runDaemon(flags: DaemonFlags): Promise<void> {
  const quiet = flags.quiet === true;
  // stderr may go away under us (a closed terminal, a dead pipe reader): from then on the
  // daemon logs nothing, and a failed log write is never an "internal error".
  let stderrOk = true;
  process.stderr.on('error', () => {
    stderrOk = false;
  });
  const log = (line: string) => {
    if (stderrOk) process.stderr.write(`${new Date().toISOString()} sluice daemon: ${line}\n`);
  };
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
    log: quiet ? null : log,
    http: flags.http
      ? { listen: flags.http, allowRemote: flags.httpAllowRemote === true }
      : undefined,
  });
  if (daemon.dashboard) {
    // The one line a user needs, on stdout even with --quiet: the address with its token. A
    // stdout nobody reads (a closed pipe) must not become an internal error that stops the daemon.
    process.stdout.on('error', () => {});
    process.stdout.write(`sluice dashboard: ${daemon.dashboard.url}\n`);
  }
  const stop = (signal: NodeJS.Signals) => {
    void daemon.shutdown(signal);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
  if (flags.untilStdinCloses) {
    // The kernel closes the pipe when its writer dies, however it dies (SIGKILL included):
    // the one parent-death signal that needs no cooperation from the parent.
    process.stdin.on('end', () => stop('SIGTERM')).on('error', () => stop('SIGTERM'));
    process.stdin.resume();
  }
  // Anything unforeseen still ends in an orderly stop: no session may outlive the daemon.
  process.on('uncaughtException', (error) => {
    if (stderrOk) {
      process.stderr.write(`sluice daemon: internal error: ${error.stack ?? error.message}\n`);
    }
    process.exitCode = 1;
    void daemon.shutdown('internal error');
  });
  await daemon.closed;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, stop);
  // Every session and connection is gone; anything left (a stuck stdout) must not keep us up.
  process.exit(process.exitCode ?? 0);
}
