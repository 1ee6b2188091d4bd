#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own file under src/cli/ and is registered
 * in `commands.ts`; this file only builds the program and maps errors to one line and an exit code.
 */
import { buildProgram } from './program.js';

const program = buildProgram();
program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sluice: ${message}\n`);
  process.exitCode = process.exitCode || 1;
});
