import type { Command } from 'commander';
import { register as attach } from './attach.js';
import { register as daemon } from './daemon.js';
import { register as dashboard } from './dashboard.js';
import { register as logs } from './logs.js';
import { register as ls } from './ls.js';
import { register as purge } from './purge.js';
import { register as rm } from './rm.js';
import { register as run } from './run.js';
import { register as send } from './send.js';
import { register as shutdown } from './shutdown.js';
import { register as spawn } from './spawn.js';
import { register as stop } from './stop.js';
import { register as worker } from './worker.js';

/**
 * Registers every subcommand. One line per subcommand, each implemented in its own file under
 * src/cli/ as `export function register(program: Command): void`.
 */
export function registerCommands(program: Command): void {
  // Subcommands are added here by the issues that build them.
  daemon(program);
  dashboard(program);
  spawn(program);
  ls(program);
  logs(program);
  attach(program);
  send(program);
  stop(program);
  rm(program);
  purge(program);
  shutdown(program);
  run(program);
  worker(program);
}
