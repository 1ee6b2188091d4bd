import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { register as registerCompletion } from './completion.js';
import { register as registerDemo } from './demo.js';
import { attachExamples } from './examples.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const HELP_FOOTER = `
Exit status: 0 on success; 1 when the command failed (one line on stderr says why); 2 on a usage
error; \`sluice run\` exits like bash (the last stage's status, 128+N for a signal).
Colours only on a terminal, never with NO_COLOR set. Docs: docs/ in the package.
`;

/** Builds the `sluice` program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Run work through processes: pipelines, flows, supervised children, sessions.')
    .version(packageVersion(), '-V, --version')
    // Throw instead of exiting, so main.ts maps usage errors to exit status 2; subcommands
    // registered after this inherit it.
    .exitOverride()
    .configureOutput({
      // One line for every usage error, in the same shape as runtime errors.
      outputError: (text, write) =>
        write(`sluice: ${text.replace(/^error: /, '').trimEnd()} (see --help)\n`),
    });
  registerDemo(program);
  registerCommands(program);
  // Last, so the completion scripts see every other subcommand.
  registerCompletion(program);
  attachExamples(program);
  program.addHelpText('after', HELP_FOOTER);
  return program;
}
