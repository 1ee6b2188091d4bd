/**
 * `sluice run [options] 'SCRIPT'` and `sluice run -f FILE [ARGS…]`: runs a script in sluice's
 * shell language (docs/shell.md) without a shell, with this process's stdin, stdout and stderr
 * handed straight to the commands. A file may start with `#!/usr/bin/env -S sluice run -f`.
 *
 * Exit status: the script's, as bash's `$?` under sluice's rule (pipefail, except that a stage
 * ended by SIGPIPE is not a failure when every stage after it succeeded); 127 for a command not
 * found, 126 for one that cannot be executed, 128 + N for a signal; 2 for text the language
 * refuses (nothing runs then); 1 for a glob that matched nothing. `--check` parses only.
 * `--stats` prints per stage of every pipeline, on stderr: bytes in and out, wall time, exit
 * status and peak RSS.
 */

import { fstatSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Command } from 'commander';
import {
  type ast,
  fn,
  formatBytes,
  Interpreter,
  MemoryWatchStage,
  memoryObserver,
  type PipelineInstrument,
  parseScript,
  ShellExpansionError,
  ShellState,
  ShSyntaxError,
  type Stage,
  type StageResult,
  write,
} from '../pipe/index.js';

/** The options of `sluice run`. */
export interface RunFlags {
  file?: string;
  check?: boolean;
  stats?: boolean;
  pipefail?: boolean;
  json?: boolean;
  literalGlobs?: boolean;
}

/** Byte counts of one metered edge. */
interface Meter {
  read: number;
  written: number;
}

export function register(program: Command): void {
  program
    .command('run')
    .description("run a script of commands joined by real pipes, e.g. sluice run 'yes | head -1'")
    .argument(
      '[script...]',
      'the script, quoted as one argument (with -f: the arguments $1, $2, …)',
    )
    .option('-f, --file <path>', 'run the script in this file (a #! line is a comment)')
    .option(
      '--check',
      'parse only: exit 0 if the language accepts the script, else 2 (with --json: print the syntax tree)',
    )
    .option('--literal-globs', 'pass a glob that matches nothing on as written instead of failing')
    .option('--stats', 'print per stage: bytes in and out, wall time, exit status, peak RSS')
    .option(
      '--pipefail',
      'accepted for compatibility: the status rule is always pipefail (SIGPIPE forgiven)',
    )
    .option('--json', 'with --stats: print the stats as JSON; with --check: print the syntax tree')
    .action(async (words: string[], flags: RunFlags) => {
      process.exitCode = await run(words, flags);
    });
}

/**
 * Parses `sluice run`'s arguments the way commander would, for the fast start in main.ts (no
 * commander loaded). Returns undefined for anything but the plain forms (help, an unknown or
 * malformed option), which then go through commander for its messages.
 */
export function parseRunArgs(
  args: readonly string[],
): { words: string[]; flags: RunFlags } | undefined {
  const flags: RunFlags = {};
  const words: string[] = [];
  const booleans: Record<string, keyof RunFlags> = {
    '--check': 'check',
    '--stats': 'stats',
    '--pipefail': 'pipefail',
    '--json': 'json',
    '--literal-globs': 'literalGlobs',
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      words.push(...args.slice(i + 1));
      break;
    }
    const flag = booleans[a];
    if (flag) (flags as Record<string, unknown>)[flag] = true;
    else if (a === '-f' || a === '--file') {
      const v = args[++i];
      if (v === undefined || flags.file !== undefined) return undefined;
      flags.file = v;
    } else if (a.startsWith('--file=')) flags.file = a.slice(7);
    else if (a.startsWith('-') && a !== '-') return undefined;
    else words.push(a);
  }
  return { words, flags };
}

/** Runs one script (text, or `flags.file` with `words` as its arguments); resolves with the exit status. */
export async function run(words: string[], flags: RunFlags): Promise<number> {
  let text: string;
  let positional: string[];
  if (flags.json && !flags.stats && !flags.check) {
    process.stderr.write('sluice: run: --json goes with --stats or --check (see --help)\n');
    return 2;
  }
  if (flags.file !== undefined) {
    try {
      text = readFileSync(flags.file, 'utf8');
    } catch (e) {
      process.stderr.write(
        `sluice: ${flags.file}: ${(e as { code?: string }).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`,
      );
      return 127;
    }
    positional = [flags.file, ...words];
  } else {
    if (words.length === 0) {
      process.stderr.write('sluice: run: give a script or -f FILE (see --help)\n');
      return 2;
    }
    text = words.join(' ');
    positional = ['sluice'];
  }
  let script: ast.Script;
  try {
    script = parseScript(text);
  } catch (e) {
    if (e instanceof ShSyntaxError) {
      process.stderr.write(`sluice: ${flags.file ? `${flags.file}: ` : ''}${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (flags.check) {
    if (flags.json) process.stdout.write(`${JSON.stringify(script, null, 2)}\n`);
    return 0;
  }
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = 128 + (constants.signals[sig] ?? 0);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  const state = new ShellState({ cwd: process.cwd(), env: process.env, positional });
  const interpreter = new Interpreter({
    signal: controller.signal,
    noMatch: flags.literalGlobs ? 'literal' : 'error',
    // (node:tty loads only for --stats: ~2 ms of every start otherwise.)
    instrument: flags.stats
      ? statsInstrument(flags.json === true, (await import('node:tty')).isatty(1))
      : undefined,
  });
  try {
    return await interpreter.run(script, state, {
      stdin: hasFd(0) ? 0 : undefined,
      stdout: 1,
      stderr: 'inherit',
    });
  } catch (e) {
    if (interrupted) return interrupted;
    if (e instanceof ShSyntaxError) {
      process.stderr.write(`sluice: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ShellExpansionError) {
      process.stderr.write(`sluice: ${e.message}\n`);
      return e.status;
    }
    throw e;
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
}

function hasFd(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/**
 * `--stats`: every command is observed for its peak RSS; every edge that sluice may copy without
 * changing what the commands see (between two stages, and into a stdout that is not a terminal)
 * gets a meter. A pipeline's first stdin stays untouched. One table per pipeline.
 */
function statsInstrument(json: boolean, stdoutIsTerminal: boolean): PipelineInstrument {
  const runs = new Map<readonly Stage[], { built: Stage[]; meters: (Meter | undefined)[] }>();
  return {
    wrap(stages) {
      const built: Stage[] = [];
      const meters: (Meter | undefined)[] = [];
      const positions: number[] = [];
      const meterOut = !stdoutIsTerminal;
      stages.forEach((s, i) => {
        positions.push(built.length);
        built.push(memoryObserver(s, { intervalMs: 10, onEvent: () => {} }));
        if (i < stages.length - 1 || meterOut) {
          const m: Meter = { read: 0, written: 0 };
          meters[i] = m;
          built.push(meterStage(m));
        }
      });
      runs.set(stages, { built, meters });
      return { stages: built, positions };
    },
    done(labels, results, statuses, stages) {
      const r = runs.get(stages);
      runs.delete(stages);
      if (r) printStats(labels, results, statuses, r.built, r.meters, json);
    },
  };
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
  labels: readonly string[],
  results: readonly (StageResult | undefined)[],
  statuses: readonly number[],
  built: Stage[],
  meters: (Meter | undefined)[],
  json: boolean,
): void {
  const watchers = built.filter((s): s is MemoryWatchStage => s instanceof MemoryWatchStage);
  const rows = labels.map((label, i) => {
    const r = results[i];
    const peak = watchers[i]?.peak;
    return {
      stage: label,
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
