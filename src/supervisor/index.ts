/**
 * sluice/supervisor: one long-running stdio child — spawned in its own process group, line and
 * newline-delimited-JSON I/O, a graceful stop (stdin EOF, SIGTERM to the group, grace, SIGKILL),
 * an optional restart policy, and no leaks. See docs/supervisor.md.
 */

// The OS layer's names a supervisor user meets: the clock, the errors, the exit outcome.
export {
  type Clock,
  type ExitOutcome,
  InvalidOptionError,
  type SignalName,
  SluiceError,
  SpawnError,
  type SpawnErrorCode,
  systemClock,
} from '../proc/index.js';
export { supervise } from './child.js';
export type { Child, ChildEvents, ExitInfo, RestartEvent } from './child-types.js';
export type { StopOptions, SuperviseConfig, SuperviseOptions } from './config.js';
// Deprecated 0.1 names, removed in 0.3.0.
export * from './deprecated.js';
export { SupervisorError, type SupervisorErrorCode } from './errors.js';
export {
  type ResolvedRestartPolicy,
  RestartBudget,
  type RestartDecision,
  type RestartPolicy,
} from './restart.js';
