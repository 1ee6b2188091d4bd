/**
 * The shell language of `sh` and `sluice run`: lexer, parser to a documented AST, expansion,
 * interpreter, builtins and the template. See docs/shell.md.
 */
export type * from './ast.js';
export {
  ShellExitError,
  ShellExpansionError,
  ShellSyntaxError,
  ShellUnsupportedError,
  ShellValueError,
  StatusError,
} from './errors.js';
export { Interpreter, type InterpreterOptions } from './interpreter.js';
export type { ShellIO } from './io.js';
export { parseScript, parseTemplate } from './parser.js';
export type { ShellResult } from './result.js';
export type { Failure, PipelineInstrument } from './run-stages.js';
export { ShellState } from './state.js';
export { statusOf } from './status.js';
export { ShellPipeline, type ShOptions, sh } from './template.js';
