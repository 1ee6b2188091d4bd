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
export {
  type Failure,
  Interpreter,
  type InterpreterOptions,
  type PipelineInstrument,
  statusOf,
} from './interpreter.js';
export type { ShellIO } from './io.js';
export { parseScript, parseTemplate } from './parser.js';
export { ShellState } from './state.js';
export { ShellPipeline, type ShellResult, type ShOptions, sh } from './template.js';
