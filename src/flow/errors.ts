/**
 * flow's typed errors. Every error flow raises is a `SluiceError` with a stable `code`
 * (`ERR_SLUICE_FLOW_*`, or `ERR_SLUICE_INVALID_OPTION` / `ERR_SLUICE_PANIC`, which every part
 * shares); flow's own are `FlowError`s. `instanceof` works across two copies of sluice.
 *
 * The Go-style names of 0.1 (`ErrClosed`, `ErrStopping`, `ErrWeightExceedsLimit`,
 * `FlowControlError`, `FlowConfigError`) stay as deprecated aliases for one minor version.
 */
import { InvalidOptionError, SluiceError } from '../proc/index.js';

/** Base class of every error flow raises itself (codes `ERR_SLUICE_FLOW_*`). */
export class FlowError extends SluiceError {}

/**
 * `Stage.submit` rejects with ClosedError when the stage no longer accepts input: after
 * `closeInput()`, after a fail-fast error, or after the stage's signal aborted. A submit that is
 * rejected produced no result. Code `ERR_SLUICE_FLOW_CLOSED`.
 */
export class ClosedError extends FlowError {
  constructor() {
    super('ERR_SLUICE_FLOW_CLOSED', 'sluice/flow: stage closed');
  }
}

/**
 * `Stage.setWorkers` throws StoppingError once the stage was aborted (fail-fast or signal) or
 * has finished. Code `ERR_SLUICE_FLOW_STOPPING`.
 */
export class StoppingError extends FlowError {
  constructor() {
    super('ERR_SLUICE_FLOW_STOPPING', 'sluice/flow: stage is stopping');
  }
}

/**
 * `Stage.submit` rejects with WeightExceedsLimitError, at once and without queueing, when the
 * item's weight is above the current `maxWIPWeight` (it could never be admitted). A waiting
 * submit whose weight is above a limit lowered later by `setMaxWIPWeight` is rejected the same
 * way. Code `ERR_SLUICE_FLOW_WEIGHT_EXCEEDS_LIMIT`.
 */
export class WeightExceedsLimitError extends FlowError {
  /** The item's weight. */
  readonly weight: number;
  /** The `maxWIPWeight` it exceeded. */
  readonly limit: number;
  constructor(weight: number, limit: number) {
    super(
      'ERR_SLUICE_FLOW_WEIGHT_EXCEEDS_LIMIT',
      `sluice/flow: item weight ${weight} exceeds maxWIPWeight ${limit}`,
    );
    this.weight = weight;
    this.limit = limit;
  }
}

/**
 * A `join` source ended without producing its one item; `source` says which side. Code
 * `ERR_SLUICE_FLOW_MISSING_RESULT`.
 */
export class MissingResultError extends FlowError {
  /** The side that ended empty. */
  readonly source: 'A' | 'B';
  constructor(source: 'A' | 'B') {
    super(
      'ERR_SLUICE_FLOW_MISSING_RESULT',
      `sluice/flow: join source ${source} closed without a result`,
    );
    this.source = source;
  }
}

/** Why a topology call was refused. */
export type TopologyErrorReason =
  | 'empty-name'
  | 'bad-stats'
  | 'duplicate-stage'
  | 'unknown-stage'
  | 'duplicate-edge'
  | 'unknown-edge'
  | 'self-loop'
  | 'bad-ratio'
  | 'cycle'
  | 'no-stages'
  | 'frozen'
  | 'not-frozen'
  | 'not-linear';

/**
 * A `Topology` was misused: a bad name, stats accessor or ratio, a duplicate, an unknown stage or
 * edge, a cycle, a change after `freeze()`, a query before it, or a rope asked to hold a segment
 * that is not a single linear chain. `reason` says which. Code `ERR_SLUICE_FLOW_TOPOLOGY`.
 */
export class TopologyError extends FlowError {
  /** Which rule the call broke. */
  readonly reason: TopologyErrorReason;
  constructor(reason: TopologyErrorReason, message: string) {
    super('ERR_SLUICE_FLOW_TOPOLOGY', message);
    this.reason = reason;
  }
}

/**
 * A controller or reporter was used out of order: `run` twice, `addStage` after `run`. Code
 * `ERR_SLUICE_FLOW_STATE`.
 */
export class FlowStateError extends FlowError {
  constructor(message: string) {
    super('ERR_SLUICE_FLOW_STATE', message);
  }
}

/** @deprecated Use {@link ClosedError}; removed in the next minor version. */
export const ErrClosed = ClosedError;
/** @deprecated Use {@link ClosedError}. */
export type ErrClosed = ClosedError;
/** @deprecated Use {@link StoppingError}; removed in the next minor version. */
export const ErrStopping = StoppingError;
/** @deprecated Use {@link StoppingError}. */
export type ErrStopping = StoppingError;
/** @deprecated Use {@link WeightExceedsLimitError}; removed in the next minor version. */
export const ErrWeightExceedsLimit = WeightExceedsLimitError;
/** @deprecated Use {@link WeightExceedsLimitError}. */
export type ErrWeightExceedsLimit = WeightExceedsLimitError;
/** @deprecated Use {@link FlowError}, the one base class of flow's errors. */
export const FlowControlError = FlowError;
/** @deprecated Use {@link FlowError}. */
export type FlowControlError = FlowError;
/** @deprecated Bad options are an `InvalidOptionError` in every part of sluice. */
export const FlowConfigError = InvalidOptionError;
/** @deprecated Use `InvalidOptionError`. */
export type FlowConfigError = InvalidOptionError;
