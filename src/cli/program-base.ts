/**
 * The `sluice` program without its subcommands: name, version, and the error handling every
 * subcommand inherits. Kept apart from program.ts so that `sluice --version` and the commands
 * main.ts loads alone (`run`, `ls`) do not import every subcommand's module.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The bare program; subcommands registered on it inherit `exitOverride` and the output shape. */
export function baseProgram(): Command {
  return (
    new Command('sluice')
      .description('Run work through processes: pipelines, flows, supervised children, sessions.')
      .version(packageVersion(), '-V, --version')
      // Throw instead of exiting, so main.ts maps usage errors to exit status 2; subcommands
      // registered after this inherit it.
      .exitOverride()
      .configureOutput({
        // One line for every usage error, in the same shape as runtime errors.
        outputError: (text, write) =>
          write(`sluice: ${text.replace(/^error: /, '').trimEnd()} (see --help)\n`),
      })
  );
}
