/**
 * sluice/pipe: pipelines of commands and async functions, go-pipe v2's design in TypeScript.
 * Commands are joined by real kernel pipes and get the caller's fds directly; functions are
 * joined by in-memory streams. See docs/pipe.md.
 */

export { chooseError } from './choose-error.js';
export { type CommandOptions, CommandStage, command, type StderrOption } from './command.js';
export {
  ClosedPipeError,
  CommandError,
  FinishEarly,
  formatBytes,
  MaxBufferError,
  MemoryLimitError,
  PipeError,
  PipelineError,
  PipeUsageError,
  ShSyntaxError,
  StageStartError,
} from './errors.js';
export { type ErrorFilter, filterError, ignoreError } from './filter-error.js';
export {
  type FnContext,
  type FnOptions,
  FunctionStage,
  fn,
  type StageFunction,
} from './function.js';
export {
  type LineContext,
  type LineFunction,
  type LineResult,
  linewise,
  type ScannerOptions,
  type Split,
  scanner,
  write,
} from './linewise.js';
export {
  type MemoryLimitOptions,
  type MemoryObserverOptions,
  type MemoryPeak,
  MemoryWatchStage,
  memoryLimit,
  memoryObserver,
} from './memory.js';
export { type EdgeKind, planEdges } from './negotiate.js';
export {
  Pipeline,
  type PipelineOptions,
  pipeline,
  type StageResult,
} from './pipeline.js';
export {
  anyError,
  type ErrorMatcher,
  isError,
  isExitCode,
  isFinishEarly,
  isPipeError,
  isSignal,
  isSigpipe,
} from './predicates.js';
export { print, println } from './print.js';
export {
  type ParsedCommand,
  type ParsedElement,
  parse,
  parseCommandLine,
  type ShOptions,
  sh,
  toStages,
} from './sh.js';
export type {
  ExitInfo,
  PipeEvent,
  ProcessStage,
  Stage,
  StageContext,
  StageErrorHandler,
  StagePreferences,
  StreamPreference,
  WrapperStage,
} from './stage.js';
export { processStageOf } from './stage.js';
export { InputStream, OutputStream, type StreamKind } from './streams.js';
