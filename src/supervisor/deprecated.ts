/**
 * Names sluice/supervisor published in 0.1 that moved or became internal, kept for one minor
 * version (removed in 0.3.0): the process core now lives in the OS layer, and the line framing
 * is internal (the supervisor frames by bytes now).
 */
export {
  /** @deprecated The process core is internal to sluice now; removed in 0.3.0. */
  type GroupProcess,
  /** @deprecated The process core is internal to sluice now; removed in 0.3.0. */
  type SpawnGroupOptions,
  /** @deprecated The process core is internal to sluice now; removed in 0.3.0. */
  type StdioSlot,
  /** @deprecated The process core is internal to sluice now; removed in 0.3.0. */
  spawnGroup,
  /** @deprecated The process core is internal to sluice now; removed in 0.3.0. */
  type TerminateProcessOptions,
} from '../proc/index.js';
export { LineFeed, LineSplitter, readLines } from './legacy-lines.js';
