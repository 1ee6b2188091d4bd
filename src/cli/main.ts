#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own file under src/cli/ and is registered
 * in `commands.ts`; this file only builds the program and maps errors to one line and an exit
 * code: 0 success, 1 failure, 2 usage error (see `sluice --help`).
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

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

const program = buildProgram();
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    process.exitCode = USAGE_ERRORS.has(error.code) ? 2 : error.exitCode;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sluice: ${message}\n`);
  process.exitCode = process.exitCode || 1;
});
