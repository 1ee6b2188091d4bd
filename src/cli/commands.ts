import type { Command } from 'commander';

/**
 * Registers every subcommand. One line per subcommand, each implemented in its own file under
 * src/cli/ as `export function register(program: Command): void`.
 */
export function registerCommands(_program: Command): void {
  // Subcommands are added here by the issues that build them.
}
