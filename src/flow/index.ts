/**
 * sluice/flow: Drum-Buffer-Rope stages with bounded WIP, backpressure and stats. See docs/flow.md.
 */
export type { ServiceTimeSummary, Stats } from './stats.js';
