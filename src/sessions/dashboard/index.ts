/**
 * The sessions daemon's dashboard: a local web page with the daemon's sessions (a live list,
 * browser terminals) and the flows programs publish to it (stage graph and live charts), plus
 * Prometheus `/metrics`. See docs/dashboard.md.
 *
 * The daemon loads this folder only when started with `--http`; nothing here is imported by
 * the rest of sluice/sessions at load time.
 */
export { Access, type Credential } from './access.js';
export {
  FlowBoard,
  type FlowBoardEvents,
  type FlowBoardOptions,
  type FlowPoint,
  type FlowState,
  type FlowView,
} from './flow-board.js';
export { type DashboardHost, registryHost } from './host.js';
export { hostPort, isLoopbackHost, type ListenAddress, parseListenAddress } from './listen.js';
export { createMetrics } from './metrics.js';
export { type DashboardOptions, DashboardServer } from './server.js';
export { newToken, tokenMatches } from './token.js';
