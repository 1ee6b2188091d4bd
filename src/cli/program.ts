import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCommands } from './commands.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Builds the `sluice` program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Run work through processes: pipelines, flows, supervised children, sessions.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerCommands(program);
  return program;
}
