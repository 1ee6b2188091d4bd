/**
 * The shell language of `sh` and `sluice run`: lexer, parser to a documented AST, expansion,
 * interpreter, builtins and the template. See docs/shell.md.
 */

export {
  ShellExitError,
  ShellExpansionError,
  type ShellOutcome,
  ShellSyntaxError,
  ShellUnsupportedError,
  ShellValueError,
  StatusError,
} from './errors.js';
export type { ShellResult } from './result.js';
export { Interpreter, type InterpreterOptions } from './run/interpreter.js';
export type { ShellIO } from './run/io.js';
export type { Failure, PipelineInstrument } from './run/run-stages.js';
export { type ShellFlags, ShellState } from './run/state.js';
export { statusOf } from './run/status.js';
export type * from './syntax/ast.js';
export { parseScript, parseTemplate } from './syntax/parser.js';
export { ShellPipeline, type ShOptions, sh } from './template.js';
