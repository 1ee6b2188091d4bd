/**
 * Typed errors of flow's control half (topology, analyzer, rope, limits, reporter). Every
 * misconfiguration is caught when the object is built or the method is called, never later inside
 * a background loop, and raises one of these with a stable `code` and a one-line message.
 */

/** Base class of the control half's errors. `code` is stable; the message is for people. */
export class FlowControlError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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
 * that is not a single linear chain. `reason` says which.
 */
export class TopologyError extends FlowControlError {
  readonly reason: TopologyErrorReason;
  constructor(reason: TopologyErrorReason, message: string) {
    super('ERR_FLOW_TOPOLOGY', message);
    this.reason = reason;
  }
}

/**
 * An option of a controller, analyzer, reporter or limit manager is out of range or missing
 * (for example `intervalMs <= 0`, `safetyFactor <= 0`, a missing `setHeadWIP`). `option` names it.
 */
export class FlowConfigError extends FlowControlError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_FLOW_CONFIG', message);
    this.option = option;
  }
}

/** A controller or reporter was used out of order: `run` twice, `addStage` after `run`. */
export class FlowStateError extends FlowControlError {
  constructor(message: string) {
    super('ERR_FLOW_STATE', message);
  }
}

/** Throws a `FlowConfigError` unless `value` is a finite number > 0. */
export function assertPositive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new FlowConfigError(
      option,
      `${option} must be a finite number > 0, got ${String(value)}`,
    );
  }
  return value;
}

/** Throws a `FlowConfigError` unless `value` is an integer >= `min`. */
export function assertInteger(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new FlowConfigError(
      option,
      `${option} must be an integer >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}

/** Throws a `FlowConfigError` unless `value` is a number in [0, 1]. */
export function assertFraction(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new FlowConfigError(option, `${option} must be a number in [0, 1], got ${String(value)}`);
  }
  return value;
}
