/**
 * sluice/flow: Drum-Buffer-Rope stages with bounded WIP, backpressure and stats, the operators
 * between them, and the control loop that finds the constraint and holds the rope. See
 * docs/flow.md.
 */

// Exports stay sorted by module. Stages: stage, options, result, stats, stage-like, from-iterable.
// Operators: batcher, weighted-batcher, tee, merge, join. Control (finding the drum and holding
// the rope): topology, analyzer, focusing, interval, zones, memory, rope, auto-rope, limits,
// memory-rope, reporter, logger, ticker. Deprecated 0.1 names: ErrClosed, ErrStopping,
// ErrWeightExceedsLimit, FlowConfigError, FlowControlError, pipe.
export { type Clock, InvalidOptionError, PanicError } from '../proc/index.js';
export {
  Analyzer,
  type AnalyzerOptions,
  DEFAULT_THRESHOLDS,
  type Diagnosis,
  type StageDiagnosis,
  type StageState,
  type Thresholds,
} from './analyzer.js';
export {
  AutoRope,
  type AutoRopeOptions,
  type AutoRopeStats,
  autoRope,
  type Elevation,
  type WindowRecord,
} from './auto-rope.js';
export { Batcher, type BatcherStats, batcher } from './batcher.js';
export type { OperatorOptions } from './channel.js';
export {
  ClosedError,
  ErrClosed,
  ErrStopping,
  ErrWeightExceedsLimit,
  FlowConfigError,
  FlowControlError,
  FlowError,
  FlowStateError,
  MissingResultError,
  StoppingError,
  TopologyError,
  type TopologyErrorReason,
  WeightExceedsLimitError,
} from './errors.js';
export {
  classifyStep,
  type FocusingStep,
  observe,
  observeInterval,
  type StageObservation,
  type StepSignals,
} from './focusing.js';
export { fromIterable } from './from-iterable.js';
export { delta, IntervalSampler, type IntervalStats, type StatsSources } from './interval.js';
export { Join, type JoinStats, join } from './join.js';
export {
  LIMIT_SOURCES,
  type LimitHandle,
  LimitManager,
  type LimitManagerOptions,
  type LimitSnapshot,
} from './limits.js';
export { type FlowLogger, lineLogger, silentLogger } from './logger.js';
export {
  currentMemoryFever,
  type MemoryFeverZone,
  type MemoryInfo,
  memoryFever,
  readMemoryInfo,
} from './memory.js';
export { MemoryRope, type MemoryRopeOptions, type MemoryRopeStats } from './memory-rope.js';
export { Merge, type MergeStats, merge } from './merge.js';
export type { StageFn, StageOptions, SubmitOptions } from './options.js';
export {
  type Report,
  Reporter,
  type ReporterOptions,
  type StageReport,
} from './reporter.js';
export { err, ok, type Result } from './result.js';
export { RopeController, type RopeControllerOptions, type RopeStats } from './rope.js';
export { pipe, type Source, Stage, start, startFrom } from './stage.js';
export type { StageLike, StageSource } from './stage-like.js';
export type { ServiceTimeSummary, Stats } from './stats.js';
export { Tee, type TeeStats, tee } from './tee.js';
export { ManualTicker, type Ticker } from './ticker.js';
export { Topology } from './topology.js';
export { WeightedBatcher, type WeightedBatcherStats, weightedBatcher } from './weighted-batcher.js';
export { type BufferZone, bufferCapacity, bufferZone } from './zones.js';
