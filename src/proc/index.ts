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
export { DEFAULT_GRACE_MS, type ExitInfo, type ExitOutcome } from './exit-info.js';
export { type ExitKillScope, killOnExit } from './exit-kill.js';
export { dupFd, setCloseOnExec } from './fd-flags.js';
export { countOpenFds, fdTarget, type OpenFd, openFds } from './fds.js';
export {
  createPipe,
  createPipes,
  type PipeBackend,
  type PipePair,
  pipeBackend,
  pipeBufferSize,
} from './pipe.js';
export { pollUntil } from './poll.js';
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
} from './signal.js';
export { spawnGroup } from './spawn-group.js';
export { overlayEnv } from './spawn-options.js';
export type {
  GroupProcess,
  SpawnGroupOptions,
  StdioSlot,
  TerminateProcessOptions,
} from './spawn-types.js';
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
} from './subreaper.js';
export { sessionGroups, signalSession, waitSessionGone } from './terminal-session.js';
export { assertForeignGroup, assertPid, ownProcessGroup } from './validate.js';
