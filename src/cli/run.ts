/**
 * `sluice run [--stats] [--pipefail] [--json] 'CMD | CMD ...'`: runs a pipeline written in the
 * `sh` grammar (quotes, escapes, `|`, `<`, `>`, `>>`, `2>`, `2>&1`; no `$VAR`, no globbing, no
 * shell), with this process's stdin, stdout and stderr handed straight to the commands. The exit
 * status is bash's: the last command's (128 + N for a signal, 127 for a command not found, 126
 * for one that cannot be executed), or with `--pipefail` the rightmost non-zero one. `--stats`
 * prints per stage, on stderr: bytes in and out, wall time, exit status and peak RSS.
 */

import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import { isatty } from 'node:tty';
import type { Command } from 'commander';
import {
  fn,
  formatBytes,
  MemoryWatchStage,
  memoryObserver,
  type ParsedCommand,
  parseCommandLine,
  pipeline,
  ShSyntaxError,
  type Stage,
  type StageResult,
  StageStartError,
  toStages,
  write,
} from '../pipe/index.js';

interface RunFlags {
  stats?: boolean;
  pipefail?: boolean;
  json?: boolean;
}

/** Byte counts of one metered edge. */
interface Meter {
  read: number;
  written: number;
}

export function register(program: Command): void {
  program
    .command('run')
    .description("run a pipeline of commands joined by real pipes, e.g. sluice run 'yes | head -1'")
    .argument('<pipeline...>', 'the pipeline, quoted as one argument')
    .option('--stats', 'print per stage: bytes in and out, wall time, exit status, peak RSS')
    .option('--pipefail', "exit with the rightmost non-zero status, as bash's set -o pipefail")
    .option('--json', 'with --stats: print the stats as JSON')
    .action(async (words: string[], flags: RunFlags) => {
      process.exitCode = await run(words.join(' '), flags);
    });
}

/** Runs one command line; resolves with the exit status. */
export async function run(text: string, flags: RunFlags): Promise<number> {
  let commands: ParsedCommand[];
  try {
    commands = parseCommandLine(text);
  } catch (e) {
    if (e instanceof ShSyntaxError) {
      process.stderr.write(`sluice: ${e.message.replace(/^sh: /, 'syntax error: ')}\n`);
      return 2;
    }
    throw e;
  }
  const stages = toStages(commands, 'inherit');
  const meters: (Meter | undefined)[] = [];
  let built: Stage[] = stages;
  if (flags.stats) {
    // Every command is observed for its peak RSS; every edge that sluice may copy without
    // changing what the commands see (between two commands, and into a stdout that is not a
    // terminal) gets a meter. The commands' own stdin stays untouched.
    built = [];
    const meterOut = !isatty(1);
    stages.forEach((s, i) => {
      built.push(memoryObserver(s, { intervalMs: 10, onEvent: () => {} }));
      if (i < stages.length - 1 || meterOut) {
        const m: Meter = { read: 0, written: 0 };
        meters[i] = m;
        built.push(meterStage(m));
      }
    });
  }
  const controller = new AbortController();
  const p = pipeline({ stdin: hasFd(0) ? 0 : undefined, stdout: 1, signal: controller.signal });
  p.add(...built);
  let interrupted = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = 128 + (constants.signals[sig] ?? 0);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  try {
    await p.run().catch(() => {});
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
  const results = p.results.filter((r) => !flags.stats || !r.name.startsWith('\0meter'));
  const commandResults = commands.map((_, i) => results[i]);
  for (const r of commandResults) {
    if (r?.startFailed) process.stderr.write(`sluice: ${(r.error as Error).message}\n`);
  }
  // Stages after one that failed to start never ran: they take its status (127 for a command
  // not found), so the failure is not hidden behind a stage that did nothing.
  const failed = commandResults.find((r) => r?.startFailed);
  const statuses = commandResults.map((r) => (r ? status(r) : failed ? status(failed) : 1));
  if (flags.stats)
    printStats(commands, commandResults, statuses, built, meters, flags.json === true);
  if (interrupted) return interrupted;
  if (flags.pipefail) return [...statuses].reverse().find((s) => s !== 0) ?? 0;
  return statuses[statuses.length - 1] ?? 0;
}

function hasFd(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** bash's status for one stage. */
function status(r: StageResult | undefined): number {
  if (!r) return 1;
  if (r.startFailed) {
    const e = r.error instanceof StageStartError ? r.error : undefined;
    if (e?.reason !== 'command') return 1;
    return e.errno === 'EACCES' ? 126 : 127;
  }
  if (r.signal) return 128 + (constants.signals[r.signal] ?? 0);
  if (typeof r.exitCode === 'number') return r.exitCode;
  return r.error === undefined ? 0 : 1;
}

/** A pass-through stage that counts what it reads and what the next stage accepted. */
function meterStage(m: Meter): Stage {
  return fn('\0meter', async (_ctx, stdin, stdout) => {
    for await (const chunk of stdin) {
      const b = chunk as Buffer;
      m.read += b.length;
      await write(stdout, b);
      m.written += b.length;
    }
  });
}

function printStats(
  commands: ParsedCommand[],
  results: (StageResult | undefined)[],
  statuses: number[],
  built: Stage[],
  meters: (Meter | undefined)[],
  json: boolean,
): void {
  const watchers = built.filter((s): s is MemoryWatchStage => s instanceof MemoryWatchStage);
  const rows = commands.map((c, i) => {
    const r = results[i];
    const peak = watchers[i]?.peak;
    return {
      stage: c.argv.join(' '),
      bytesIn: i === 0 ? null : (meters[i - 1]?.written ?? null),
      bytesOut: meters[i]?.read ?? null,
      wallMs: r ? Math.round(r.durationMs * 10) / 10 : null,
      status: statuses[i]!,
      signal: r?.signal ?? null,
      peakRssBytes: peak && peak.samples > 0 ? peak.maxHwmBytes : null,
    };
  });
  if (json) {
    process.stderr.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const cell = (n: number | null) => (n === null ? '-' : formatBytes(n));
  const table = [
    ['stage', 'in', 'out', 'wall', 'status', 'peak RSS'],
    ...rows.map((r) => [
      r.stage.length > 40 ? `${r.stage.slice(0, 39)}…` : r.stage,
      cell(r.bytesIn),
      cell(r.bytesOut),
      r.wallMs === null ? '-' : `${r.wallMs} ms`,
      r.signal ? `${r.status} (${r.signal})` : String(r.status),
      cell(r.peakRssBytes),
    ]),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  for (const row of table) {
    process.stderr.write(
      `${row.map((c, col) => (col === 0 ? c.padEnd(widths[col]!) : c.padStart(widths[col]!))).join('  ')}\n`,
    );
  }
}
