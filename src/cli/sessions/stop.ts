/**
 * `sluice stop ID [--grace DURATION] [--no-wait] [--json]`: the soft signal (SIGTERM; SIGHUP for a
 * PTY, a hung-up terminal) to the session's process group, SIGKILL after the grace (default 5s; 0
 * kills at once); waits for the exit and prints the outcome: `soft (signal SIGTERM)`,
 * `hard (signal SIGKILL)`, or `natural (exit 0)` when it had already ended on its own.
 */
import type { Command } from 'commander';
import {
  describeExit,
  jsonOption,
  parseDuration,
  printJson,
  socketOption,
  withClient,
} from './client-util.js';

interface StopFlags {
  grace?: number;
  wait: boolean;
  json?: boolean;
  socket?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('stop')
    .description(
      'stop a session: SIGTERM (SIGHUP for a PTY), SIGKILL after the grace; prints the outcome',
    )
    .argument('<id>', 'the session id (or a unique prefix)')
    .option('--grace <duration>', 'time between SIGTERM and SIGKILL (default 5s)', parseDuration)
    .option('--no-wait', 'return at once instead of waiting for the exit');
  jsonOption(socketOption(cmd)).action(async (id: string, flags: StopFlags) => {
    const session = await withClient(flags, (client) =>
      client
        .request({ op: 'stop', session: id, graceMs: flags.grace, wait: flags.wait })
        .then((r) => r.session),
    );
    if (flags.json) printJson(session);
    else if (session.exitInfo) {
      process.stdout.write(`${session.exitInfo.outcome} (${describeExit(session.exitInfo)})\n`);
    } else process.stdout.write('stopping\n');
  });
}
