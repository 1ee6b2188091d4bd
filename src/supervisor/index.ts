/**
 * sluice/supervisor: one long-running stdio child — spawned in its own process group, line and
 * newline-delimited-JSON I/O, a graceful stop (stdin EOF, SIGTERM to the group, grace, SIGKILL),
 * an optional restart policy, and no leaks. See docs/supervisor.md.
 *
 * `spawnGroup` and `GroupProcess` are the reusable process core (the sessions daemon builds on
 * them too).
 */
export {
  type Child,
  type ChildEvents,
  type RestartEvent,
  type StopOptions,
  type SuperviseConfig,
  supervise,
} from './child.js';
export {
  SpawnError,
  type SpawnErrorCode,
  SupervisorError,
  type SupervisorErrorCode,
} from './errors.js';
export { LineFeed, LineSplitter, readLines } from './lines.js';
export {
  type ExitInfo,
  type GroupProcess,
  type SpawnGroupOptions,
  type StdioSlot,
  spawnGroup,
  type TerminateProcessOptions,
} from './process.js';
export {
  type Clock,
  type ResolvedRestartPolicy,
  RestartBudget,
  type RestartDecision,
  type RestartPolicy,
  systemClock,
} from './restart.js';
