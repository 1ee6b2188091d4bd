/**
 * `sluice ls [--originator NAME] [--json]`: one line per session, oldest first: id, pid, state,
 * outcome, restarts (by `spawn --restart`), how the last run ended, command. `--json` prints the sessions as a JSON array (the protocol's session info).
 */
import type { Command } from 'commander';
import {
  describeExit,
  jsonOption,
  printJson,
  socketOption,
  stateColumn,
  withClient,
} from './client-util.js';

interface LsFlags {
  originator?: string;
  json?: boolean;
  socket?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('ls')
    .description('list the sessions: id, pid, state, outcome, restarts, last exit, command')
    .option('--originator <name>', 'only the sessions of this originator');
  jsonOption(socketOption(cmd)).action(async (flags: LsFlags) => {
    const sessions = await withClient(flags, (client) =>
      client.list({ originator: flags.originator }),
    );
    if (flags.json) {
      printJson(sessions);
      return;
    }
    const rows = sessions.map((s) => [
      s.id,
      String(s.pid),
      stateColumn(s),
      s.exitInfo?.outcome ?? '-',
      String(s.restarts ?? 0),
      s.lastExit ? describeExit(s.lastExit) : '-',
      s.command,
    ]);
    const header = ['ID', 'PID', 'STATE', 'OUTCOME', 'RESTARTS', 'LAST EXIT', 'COMMAND'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    process.stdout.write(`${[header, ...rows].map(line).join('\n')}\n`);
  });
}
