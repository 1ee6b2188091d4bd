import type { Command } from 'commander';
import { registerCommands } from './commands.js';
import { register as registerCompletion } from './completion.js';
import { register as registerDemo } from './demo.js';
import { attachExamples } from './examples.js';
import { baseProgram } from './program-base.js';

const HELP_FOOTER = `
Exit status: 0 on success; 1 when the command failed (one line on stderr says why); 2 on a usage
error; \`sluice run\` exits with its script's status (pipefail, a SIGPIPE upstream of successes
forgiven; 127 command not found; 128+N for a signal; 2 when the language refuses the script).
Colours only on a terminal, never with NO_COLOR set. Docs: docs/ in the package.
`;

/**
 * Builds the `sluice` program with every subcommand registered (help, completion, and every
 * command main.ts does not load alone).
 */
export function buildProgram(): Command {
  const program = baseProgram();
  registerDemo(program);
  registerCommands(program);
  // Last, so the completion scripts see every other subcommand.
  registerCompletion(program);
  attachExamples(program);
  program.addHelpText('after', HELP_FOOTER);
  return program;
}
