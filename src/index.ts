/**
 * sluice: run work through processes on Node.js. Each part has its own entry point
 * (`sluice/pipe`, `sluice/flow`, `sluice/supervisor`, `sluice/sessions`, `sluice/cluster`); this
 * one re-exports the parts as namespaces, and the vocabulary they share: the error base
 * `SluiceError` (every error sluice raises is one, with a stable `code`), `InvalidOptionError`
 * (a bad option, in every part), `PanicError` (user code threw a non-Error), `ExitInfo` (how a
 * process ended) and `Clock` (injectable time).
 *
 * @example
 * ```ts
 * import { SluiceError } from 'sluice';
 * import { sh } from 'sluice/pipe';
 *
 * try {
 *   await sh`false`;
 * } catch (error) {
 *   if (error instanceof SluiceError) console.error(error.code);
 * }
 * ```
 */

export * as cluster from './cluster/index.js';
export * as flow from './flow/index.js';
export * as pipe from './pipe/index.js';
export {
  type Clock,
  DEFAULT_GRACE_MS,
  type ExitInfo,
  type ExitOutcome,
  InvalidOptionError,
  PanicError,
  SluiceError,
  systemClock,
} from './proc/index.js';
export * as sessions from './sessions/index.js';
export * as supervisor from './supervisor/index.js';
