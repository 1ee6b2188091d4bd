/**
 * sluice/flow: Drum-Buffer-Rope stages with bounded WIP, backpressure and stats. See docs/flow.md.
 */

// Exports stay sorted by module (Biome's organizeImports). Part 1 (stages and operators):
// errors, options, result, stage, stats and the operators. Part 2 (finding the drum and holding
// the rope): analyzer, auto-rope, control-errors, elevate, focusing, interval, limits, logger,
// memory, memory-rope, reporter, reporter-view, rope, ticker, topology, zones.
export {
  Analyzer,
  type AnalyzerOptions,
  type ConstraintStatus,
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
  type ElevateOptions,
  type Elevation,
  type WindowRecord,
} from './auto-rope.js';
export { BatchHandle } from './batch-loop.js';
export { Batcher, type BatcherStats, batcher, batcherStatsToStats } from './batcher.js';
export type { OperatorOptions } from './channel.js';
export {
  FlowConfigError,
  FlowControlError,
  FlowStateError,
  TopologyError,
  type TopologyErrorReason,
} from './control-errors.js';
export { ErrClosed, ErrStopping, ErrWeightExceedsLimit, MissingResultError } from './errors.js';
export {
  classifyStep,
  FOCUSING_STEPS,
  type FocusingStep,
  observe,
  observeInterval,
  type StageObservation,
  type StepSignals,
} from './focusing.js';
export { fromIterable } from './from-iterable.js';
export {
  delta,
  IntervalSampler,
  type IntervalStats,
  type StatsSources,
  zeroStats,
} from './interval.js';
export { Join, type JoinStats, join } from './join.js';
export {
  LIMIT_SOURCES,
  type LimitHandle,
  LimitManager,
  type LimitManagerOptions,
  type LimitSnapshot,
  type LimitTarget,
} from './limits.js';
export { type FlowLogger, type LogFn, lineLogger, silentLogger, type TextSink } from './logger.js';
export {
  currentMemoryFever,
  type MemoryFeverZone,
  type MemoryInfo,
  type MemorySource,
  memoryFever,
  type ReadMemoryOptions,
  readMemoryInfo,
} from './memory.js';
export {
  MEMORY_ROPE_SOURCE,
  MemoryRope,
  type MemoryRopeOptions,
  type MemoryRopeStats,
} from './memory-rope.js';
export { Merge, type MergeStats, merge } from './merge.js';
export type { StageFn, StageOptions, SubmitOptions } from './options.js';
export {
  type ProcessSample,
  type Report,
  Reporter,
  type ReporterOptions,
  type StageReport,
} from './reporter.js';
export {
  LiveView,
  renderView,
  type TtySink,
  type ViewHeader,
  type ViewRow,
} from './reporter-view.js';
export { err, ok, PanicError, type Result } from './result.js';
export {
  ROPE_ERROR_CUTOFF,
  ROPE_EWMA_ALPHA,
  ROPE_MAX_YIELD_INFLATION,
  RopeController,
  type RopeControllerOptions,
  type RopeStats,
} from './rope.js';
export { pipe, type Source, Stage, start } from './stage.js';
export type { ServiceTimeSummary, Stats } from './stats.js';
export { Tee, type TeeStats, tee } from './tee.js';
export { type Clock, ManualTicker, type Ticker, timerTicker } from './ticker.js';
export {
  type IncomingEdge,
  type RopeSegment,
  type StageHandle,
  type StageSource,
  Topology,
} from './topology.js';
export {
  WeightedBatcher,
  type WeightedBatcherStats,
  weightedBatcher,
  weightedBatcherStatsToStats,
} from './weighted-batcher.js';
export {
  type BufferZone,
  bufferCapacity,
  bufferZone,
  DEFAULT_RED_AT,
  DEFAULT_YELLOW_AT,
} from './zones.js';
