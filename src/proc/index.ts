/**
 * sluice's OS layer: real pipes, spawning a child in its own process group and stopping it
 * softly then hard (`spawnGroup`), process-group signals, the process table and tree memory from
 * /proc, and fd counting. Every other part builds on it; it imports no other part.
 */
export { type Clock, systemClock } from './clock.js';
export {
  InvalidOptionError,
  InvalidPidError,
  NoSuchProcessError,
  PanicError,
  PipeCreateError,
  ProcError,
  SluiceError,
  SpawnError,
  type SpawnErrorCode,
  toError,
} from './errors.js';
export { dupFd, setCloseOnExec } from './fd/fd-flags.js';
export { countOpenFds, fdTarget, type OpenFd, openFds } from './fd/fds.js';
export {
  createPipe,
  createPipes,
  type PipeBackend,
  type PipePair,
  pipeBackend,
  pipeBufferSize,
} from './fd/pipe.js';
export { pollUntil } from './poll.js';
export { DEFAULT_GRACE_MS, type ExitInfo, type ExitOutcome } from './process/exit-info.js';
export { type ExitKillScope, killOnExit } from './process/exit-kill.js';
export { ExitWaiters } from './process/exit-waiters.js';
export {
  groupAlive,
  type SignalName,
  signalGroup,
  signalProcess,
  type TerminateOptions,
  type TerminateOutcome,
  terminateGroup,
  trySignalGroup,
  waitGroupGone,
} from './process/signal.js';
export { spawnGroup } from './process/spawn-group.js';
export { checkArgv, checkUsableCwd, overlayEnv } from './process/spawn-options.js';
export type {
  GroupProcess,
  PipeReadInto,
  SpawnGroupOptions,
  StdioSlot,
  TerminateProcessOptions,
} from './process/spawn-types.js';
export {
  type AdoptedOptions,
  adoptedChildren,
  becomeChildSubreaper,
  type EndAdoptedOptions,
  endAdopted,
  isChildSubreaper,
  type ReapedChild,
  reapAdopted,
  reapAdoptedEvery,
} from './process/subreaper.js';
export { sessionGroups, signalSession, waitSessionGone } from './process/terminal-session.js';
export { assertForeignGroup, assertPid, ownProcessGroup } from './process/validate.js';
export {
  childProcesses,
  descendants,
  groupMembers,
  hasProcfs,
  listProcesses,
  type ProcStat,
  readStat,
  zombieChildren,
} from './procfs.js';
export {
  type ProcessMemory,
  peakRssBytes,
  processMemory,
  rssAnonBytes,
  type TreeRss,
  treeRss,
} from './rss.js';
