/**
 * The tokens the lexer hands the parser: operators (with the fd number written before a
 * redirection), words, the end; and the here-documents waiting for their bodies.
 */
import type { Position, RedirectionOp, Word } from './ast.js';

/** Operators the lexer returns (every redirection operator among them). `newline` is a line break outside quotes. */
export type Operator =
  | ';'
  | '&'
  | '&&'
  | '||'
  | '|'
  | '|&'
  | '('
  | ')'
  | ';;'
  | 'newline'
  | RedirectionOp;

/** One token. A redirection operator carries the fd number written right before it, if any. */
export type Token =
  | { kind: 'word'; word: Word; offset: number }
  | { kind: 'op'; op: Operator; fd?: number; offset: number }
  | { kind: 'eof'; offset: number };

const REDIRECTIONS = new Set<string>([
  '<',
  '>',
  '>>',
  '>|',
  '<>',
  '>&',
  '<&',
  '&>',
  '&>>',
  '<<',
  '<<-',
  '<<<',
]);

/** Whether an operator is a redirection. */
export function isRedirection(op: Operator): boolean {
  return REDIRECTIONS.has(op);
}

/** A here-document waiting for its body (read after the next newline). */
export interface PendingHereDoc {
  delimiter: string;
  quoted: boolean;
  stripTabs: boolean;
  /** Filled in when the body has been read. */
  body?: Word;
  at: Position;
}
