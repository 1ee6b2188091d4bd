/** Goldratt's buffer zones for a queue's fill, the same thirds sluice/flow uses. */
import type { StageSample } from './types.js';

export const YELLOW_AT = 0.33;
export const RED_AT = 0.66;

/** How full the stage's input queue is, 0..1 (0 when it has no capacity). */
export function queueFill(s: StageSample): number {
  return s.queueCapacity > 0 ? Math.min(1, s.queueLength / s.queueCapacity) : 0;
}

/** The queue's zone: red at or above 0.66, yellow at or above 0.33, else green. */
export function zoneOf(s: StageSample): 'green' | 'yellow' | 'red' {
  const f = queueFill(s);
  return f >= RED_AT ? 'red' : f >= YELLOW_AT ? 'yellow' : 'green';
}
