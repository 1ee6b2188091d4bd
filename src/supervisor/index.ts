/**
 * sluice/supervisor: one long-running stdio child — spawned in its own process group, line and
 * newline-delimited-JSON I/O, a graceful stop (stdin EOF, SIGTERM to the group, grace, SIGKILL),
 * an optional restart policy, and no leaks. See docs/supervisor.md.
 */

// The OS layer's names a supervisor user meets: the clock, the errors, the exit outcome.
// Deprecated: the process core moved to the OS layer; kept here for one minor version.
export {
  type Clock,
  DEFAULT_GRACE_MS,
  type ExitOutcome,
  type GroupProcess,
  InvalidOptionError,
  SpawnError,
  type SpawnErrorCode,
  type SpawnGroupOptions,
  type StdioSlot,
  spawnGroup,
  systemClock,
  type TerminateProcessOptions,
} from '../proc/index.js';
export {
  type Child,
  type ChildEvents,
  type ExitInfo,
  type RestartEvent,
  supervise,
} from './child.js';
export {
  DEFAULT_EOF_TIMEOUT_MS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_QUEUE_BYTES,
  type StopOptions,
  type SuperviseConfig,
  type SuperviseOptions,
} from './config.js';
export { SupervisorError, type SupervisorErrorCode } from './errors.js';
export {
  /** @deprecated Internal framing; leaves the public surface in 0.3.0. */
  LineFeed,
  /** @deprecated Internal framing; leaves the public surface in 0.3.0. */
  LineSplitter,
  /** @deprecated Internal framing; leaves the public surface in 0.3.0. */
  readLines,
} from './legacy-lines.js';
export {
  type ResolvedRestartPolicy,
  RestartBudget,
  type RestartDecision,
  type RestartPolicy,
} from './restart.js';
