#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own file under src/cli/ and is registered
 * in `commands.ts`; this file only builds the program and maps errors to one line and an exit
 * code: 0 success, 1 failure, 2 usage error (see `sluice --help`).
 *
 * Start-up is kept close to a bare `node`: `sluice --version` loads only commander, and the
 * commands people run in loops and scripts (`run`, `ls`) load only their own module; every other
 * command line (help, completion, the rest) builds the whole program.
 */
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { baseProgram } from './program-base.js';

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
  ls: () => import('./ls.js'),
};

async function program(argv: readonly string[]): Promise<Command> {
  const first = argv[2];
  const alone = first === undefined ? undefined : ALONE[first];
  if (alone) {
    const p = baseProgram();
    (await alone()).register(p);
    return p;
  }
  if ((first === '--version' || first === '-V') && argv.length === 3) return baseProgram();
  return (await import('./program.js')).buildProgram();
}

program(process.argv)
  .then((p) => p.parseAsync(process.argv))
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help text).
      process.exitCode = USAGE_ERRORS.has(error.code) ? 2 : error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sluice: ${message}\n`);
    process.exitCode = process.exitCode || 1;
  });
