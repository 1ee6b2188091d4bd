#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own file under src/cli/ and is registered
 * in `commands.ts`; this file only builds the program and maps errors to one line and an exit
 * code: 0 success, 1 failure, 2 usage error (see `sluice --help`).
 *
 * Start-up is kept close to a bare `node`: `sluice --version` and a plain `sluice run …` load no
 * command-line parser at all, `sluice ls` and `sluice daemon` only their own module and commander;
 * every other command line (help, completion, the rest) builds the whole program.
 */
import type { Command } from 'commander';

/** Commander's own codes for a command line that does not parse. */
const USAGE_ERRORS = new Set([
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.conflictingOption',
  'commander.excessArguments',
  'commander.invalidArgument',
]);

/** Subcommands whose module is loaded alone when the command line starts with their name. */
const ALONE: Record<string, () => Promise<{ register(program: Command): void }>> = {
  run: () => import('./run.js'),
  ls: () => import('./sessions/ls.js'),
  // The daemon loads only what it serves: a smaller module graph starts faster, holds less
  // memory, and loads under a low fd limit (Node's module loader opens files concurrently, so
  // the whole program's graph fails to load under `ulimit -n 64`).
  daemon: () => import('./sessions/daemon.js'),
};

async function program(argv: readonly string[]): Promise<Command> {
  const first = argv[2];
  const alone = first === undefined ? undefined : ALONE[first];
  const { baseProgram } = await import('./program-base.js');
  if (alone) {
    const p = baseProgram();
    (await alone()).register(p);
    return p;
  }
  if ((first === '--version' || first === '-V') && argv.length === 3) return baseProgram();
  return (await import('./program.js')).buildProgram();
}

/**
 * The two command lines run most often in loops and scripts skip commander altogether:
 * `sluice --version` and a plain `sluice run …` (anything unusual falls through to commander).
 */
async function fast(argv: readonly string[]): Promise<boolean> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return true;
  }
  if (argv[2] !== 'run') return false;
  const cli = await import('./run.js');
  const parsed = cli.parseRunArgs(argv.slice(3));
  if (!parsed) return false;
  process.exitCode = await cli.run(parsed.words, parsed.flags);
  return true;
}

fast(process.argv)
  .then(async (done) => {
    if (!done) await (await program(process.argv)).parseAsync(process.argv);
  })
  .catch(async (error: unknown) => {
    const { CommanderError } = await import('commander');
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help text).
      // (`commander.help` with a non-zero code: `sluice` alone or `sluice help nosuch`.)
      process.exitCode = USAGE_ERRORS.has(error.code) || error.exitCode !== 0 ? 2 : 0;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sluice: ${message}\n`);
    process.exitCode = process.exitCode || 1;
  });
