/**
 * sluice: run work through processes on Node.js. Each part has its own entry point
 * (`sluice/pipe`, `sluice/flow`, `sluice/supervisor`, `sluice/sessions`, `sluice/cluster`); this one re-exports the
 * parts as namespaces.
 */
export * as cluster from './cluster/index.js';
export * as flow from './flow/index.js';
export * as pipe from './pipe/index.js';
export * as sessions from './sessions/index.js';
export * as supervisor from './supervisor/index.js';
