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
export { type Clock, InvalidOptionError, PanicError, SluiceError } from '../proc/index.js';
export {
  Analyzer,
  type AnalyzerOptions,
  type ConstraintStatus,
  DEFAULT_THRESHOLDS,
  type Diagnosis,
  type StageDiagnosis,
  type StageState,
  type Thresholds,
} from './control/analysis/analyzer.js';
export {
  classifyStep,
  type FocusingStep,
  observe,
  observeInterval,
  type StageObservation,
  type StepSignals,
} from './control/analysis/focusing.js';
export {
  delta,
  IntervalSampler,
  type IntervalStats,
  type StatsSources,
} from './control/analysis/interval.js';
export {
  currentMemoryFever,
  type MemoryFeverZone,
  type MemoryInfo,
  type MemorySource,
  memoryFever,
  type ReadMemoryOptions,
  readMemoryInfo,
} from './control/analysis/memory.js';
export { type BufferZone, bufferCapacity, bufferZone } from './control/analysis/zones.js';
export {
  type FlowLogger,
  type LogFn,
  lineLogger,
  silentLogger,
  type TextSink,
} from './control/logger.js';
export {
  type ProcessSample,
  type Report,
  Reporter,
  type ReporterOptions,
  type StageReport,
} from './control/reporter/reporter.js';
export type { TtySink } from './control/reporter/reporter-view.js';
export {
  AutoRope,
  type AutoRopeOptions,
  type AutoRopeStats,
  autoRope,
  type ElevateOptions,
  type Elevation,
  type WindowRecord,
} from './control/rope/auto-rope.js';
export {
  LIMIT_SOURCES,
  type LimitHandle,
  LimitManager,
  type LimitManagerOptions,
  type LimitSnapshot,
  type LimitTarget,
} from './control/rope/limits.js';
export {
  MemoryRope,
  type MemoryRopeOptions,
  type MemoryRopeStats,
} from './control/rope/memory-rope.js';
export {
  RopeController,
  type RopeControllerOptions,
  type RopeStats,
} from './control/rope/rope-controller.js';
export { type ClockOptions, ManualTicker, type Ticker } from './control/ticker.js';
export { type IncomingEdge, type RopeSegment, Topology } from './control/topology.js';
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
export { Batcher, type BatcherStats, batcher } from './operators/batcher.js';
export type { OperatorOptions } from './operators/channel.js';
export { Join, type JoinStats, join } from './operators/join.js';
export { Merge, type MergeStats, merge } from './operators/merge.js';
export { Tee, type TeeStats, tee } from './operators/tee.js';
export {
  WeightedBatcher,
  type WeightedBatcherStats,
  weightedBatcher,
} from './operators/weighted-batcher.js';
export { err, ok, type Result } from './result.js';
export { fromIterable } from './stage/from-iterable.js';
export type { StageFn, StageOptions, SubmitOptions } from './stage/options.js';
export { pipe, type Source, Stage, start, startFrom } from './stage/stage.js';
export type { BatcherLike, StageHandle, StageLike, StageSource } from './stage-like.js';
export type { ServiceTimeSummary, Stats } from './stats.js';
