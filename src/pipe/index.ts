/**
 * sluice/pipe: pipelines of commands and async functions, go-pipe v2's design in TypeScript.
 * Commands are joined by real kernel pipes and get the caller's fds directly; functions are
 * joined by in-memory streams. See docs/pipe.md.
 *
 * @example
 * ```ts
 * import { command, pipeline } from 'sluice/pipe';
 * await using p = pipeline({ stdout: process.stdout }).add(command('yes'), command('head', ['-1']));
 * await p.run(); // prints "y"; `yes` ends by SIGPIPE, which is not a failure
 * ```
 */

export { InvalidOptionError, PanicError, SluiceError } from '../proc/index.js';
export {
  ClosedPipeError,
  CommandError,
  FinishEarly,
  // Kept for the sluice CLI's tables; not part of the documented API.
  formatBytes,
  MaxBufferError,
  MemoryLimitError,
  PipeError,
  PipelineError,
  PipeUsageError,
  ShSyntaxError,
  StageStartError,
  type StageStartReason,
  StageStuckError,
} from './errors.js';
export type { ErrorRule } from './pipeline/choose-error.js';
export type { PipelineOptions } from './pipeline/options.js';
export { Pipeline, pipeline } from './pipeline/pipeline.js';
export type { StageResult } from './pipeline/stage-result.js';
export type { InputStream, OutputStream, StreamKind } from './pipeline/streams.js';
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
export {
  type ParsedCommand,
  type ParsedElement,
  parse,
  parseCommandLine,
  ShellPipeline,
  type ShellResult,
  type ShOptions,
  sh,
  toStages,
} from './sh.js';
export {
  type Failure,
  Interpreter,
  type InterpreterOptions,
  type PipelineInstrument,
  parseScript,
  parseTemplate,
  ShellExitError,
  ShellExpansionError,
  type ShellFlags,
  type ShellIO,
  type ShellOutcome,
  ShellState,
  ShellSyntaxError,
  ShellUnsupportedError,
  ShellValueError,
  StatusError,
  statusOf,
} from './shell/index.js';
/**
 * The shell language's syntax tree (`parseScript` and `parseTemplate` return an `ast.Script`):
 * `Script` → `Statement` → `PipelineNode` → `SimpleCommand` or `Group`, with `Word`s made of
 * parts; every node has `line` and `column`. See docs/shell.md.
 */
export type * as ast from './shell/syntax/ast.js';
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
export {
  type CommandOptions,
  type CommandStage,
  command,
  type StderrOption,
} from './stages/command.js';
export { type ErrorFilter, filterError, ignoreError } from './stages/filter-error.js';
export { type FnContext, type FnOptions, fn, type StageFunction } from './stages/function.js';
export {
  type LineContext,
  type LineFunction,
  type LineResult,
  linewise,
  type ScannerOptions,
  type Split,
  scanner,
  write,
} from './stages/linewise.js';
export {
  type MemoryLimitOptions,
  type MemoryObserverOptions,
  type MemoryPeak,
  MemoryWatchStage,
  memoryLimit,
  memoryObserver,
} from './stages/memory.js';
export { type Printable, print, println } from './stages/print.js';
