import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as attach } from './sessions/attach.js';
import { register as daemon } from './sessions/daemon.js';
import { register as dashboard } from './sessions/dashboard.js';
import { register as logs } from './sessions/logs.js';
import { register as ls } from './sessions/ls.js';
import { register as purge } from './sessions/purge.js';
import { register as rm } from './sessions/rm.js';
import { register as send } from './sessions/send.js';
import { register as shutdown } from './sessions/shutdown.js';
import { register as spawn } from './sessions/spawn.js';
import { register as stop } from './sessions/stop.js';
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
