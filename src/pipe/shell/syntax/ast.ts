/**
 * The syntax tree of sluice's shell language, as `parseScript` returns it. It is a plain,
 * serialisable description of a script (no functions, no classes), so tools can inspect a command
 * line without running it: which programs it runs, which files it writes, which values from a
 * template go where.
 *
 * Every node carries `column` (1-based, counted in characters of its line, a template value
 * counting as one) and `line` (1-based) of its first character.
 */

/** Where a node starts in the source. */
export interface Position {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column within the line; a template value counts as one column. */
  readonly column: number;
}

/**
 * A whole script: statements run one after another (`;` or a newline between them). The status
 * of a script is the status of its last statement.
 */
export interface Script extends Position {
  /** Tells this node kind apart from the others in the tree; always `'script'`. */
  readonly type: 'script';
  /** The statements in source order; empty for an empty script (status 0). */
  readonly statements: readonly Statement[];
}

/**
 * Pipelines joined by `&&` and `||` (bash's "and-or list"): `rest[i]` runs when the status so far
 * is zero (`&&`) or non-zero (`||`).
 */
export interface Statement extends Position {
  /** The node's discriminant, always `'statement'`. */
  readonly type: 'statement';
  /** The pipeline that always runs first. */
  readonly first: PipelineNode;
  /** The pipelines after it, each with the operator written before it; empty when there is none. */
  readonly rest: readonly {
    /** `&&`: run the pipeline when the status so far is 0; `||`: when it is not. */
    readonly op: '&&' | '||';
    /** The pipeline to run. */
    readonly pipeline: PipelineNode;
  }[];
}

/**
 * Commands joined by `|`, stdout to stdin through kernel pipes. `negated` is a leading `!`
 * (status 0 becomes 1, anything else 0).
 */
export interface PipelineNode extends Position {
  /** The node's discriminant, always `'pipeline'`. */
  readonly type: 'pipeline';
  /** Whether the pipeline was written with a leading `!`, inverting its status. */
  readonly negated: boolean;
  /** The commands from left to right; at least one. */
  readonly commands: readonly CommandNode[];
}

/** One element of a pipeline. */
export type CommandNode = SimpleCommand | Group;

/**
 * `NAME=value … word … redirection …`: assignments before the first word, words (the program
 * and its arguments, before expansion) and redirections, each list in source order. Without
 * words, the assignments set shell variables; with words, they are set in that command's
 * environment only.
 */
export interface SimpleCommand extends Position {
  /** The node's discriminant, always `'simple'`. */
  readonly type: 'simple';
  /** `NAME=value` words written before the first word; empty when there are none. */
  readonly assignments: readonly Assignment[];
  /**
   * The program and its arguments before expansion; empty for an assignment-only or
   * redirection-only command.
   */
  readonly words: readonly Word[];
  /** The redirections wherever they were written in the command, in source order. */
  readonly redirections: readonly Redirection[];
}

/**
 * `( … )` (`subshell: true`: runs in a copy of the shell's state, so `cd` and variables inside do
 * not leak out) or `{ …; }` (runs in the shell itself), with redirections applied to the whole
 * group.
 */
export interface Group extends Position {
  /** The node's discriminant, always `'group'`. */
  readonly type: 'group';
  /** True for `( … )` (a copy of the shell's state), false for `{ …; }` (the shell itself). */
  readonly subshell: boolean;
  /** The script inside the brackets. */
  readonly body: Script;
  /** Redirections written after the closing bracket, applied to the whole group. */
  readonly redirections: readonly Redirection[];
}

/** `NAME=value` (`append`: `NAME+=value`). */
export interface Assignment extends Position {
  /** The node's discriminant, always `'assignment'`. */
  readonly type: 'assignment';
  /** The variable's name (letters, digits and `_`, not starting with a digit). */
  readonly name: string;
  /** True for `NAME+=value`, which appends to the current value. */
  readonly append: boolean;
  /** The value before expansion (`NAME=` gives an empty value). */
  readonly value: Word;
}

/**
 * The redirection operators, as written. `fd` on the node is the file descriptor it changes
 * (the number written before the operator, or the operator's default: 0 for `<`, `<<`, `<<<`,
 * `<&`; 1 for `>`, `>>`, `>|`, `>&`; `&>` and `&>>` change 1 and 2).
 */
export type RedirectionOp =
  | '<'
  | '>'
  | '>>'
  | '>|'
  | '<>'
  | '>&'
  | '<&'
  | '&>'
  | '&>>'
  | '<<'
  | '<<-'
  | '<<<';

/**
 * One redirection, applied left to right as bash does: `2>&1 >file` sends stderr where stdout
 * went before stdout was moved to the file. For `>&` and `<&` the target expands to a file
 * descriptor number; for `<<` and `<<-` it is the here-document's body.
 */
export interface Redirection extends Position {
  /** The node's discriminant, always `'redirection'`. */
  readonly type: 'redirection';
  /** The operator as written. */
  readonly op: RedirectionOp;
  /**
   * The file descriptor it changes: the number written before the operator, else the operator's
   * default (see `RedirectionOp`).
   */
  readonly fd: number;
  /**
   * The file name (or, for `>&` and `<&`, the descriptor) as a word before expansion; a
   * `HereDocument` for `<<` and `<<-`.
   */
  readonly target: Word | HereDocument;
}

/**
 * The body of a here-document. `quoted` (the delimiter was quoted) means the body is taken
 * literally; otherwise `$NAME`, `$(…)` and backslash escapes in it are expanded. `<<-` has
 * already removed leading tabs.
 */
export interface HereDocument extends Position {
  /** The node's discriminant, always `'heredoc'`. */
  readonly type: 'heredoc';
  /** The delimiter word with its quotes removed. */
  readonly delimiter: string;
  /** Whether any part of the delimiter was quoted, which makes the body literal. */
  readonly quoted: boolean;
  /**
   * The lines between the operator's line and the delimiter line, before expansion.
   */
  readonly body: Word;
}

/** A word before expansion: the pieces it was written with, in order. */
export interface Word extends Position {
  /** The node's discriminant, always `'word'`. */
  readonly type: 'word';
  /** The pieces in source order; concatenated after expansion. */
  readonly parts: readonly WordPart[];
}

/** A piece of a word. */
export type WordPart =
  | LiteralPart
  | ParameterPart
  | CommandSubstitutionPart
  | ArithmeticPart
  | ValuePart
  | TildePart;

/**
 * Text as written. `quoted` text (inside quotes, after a backslash, or from `$'…'`) is never
 * brace-expanded or globbed; unquoted text may hold glob characters and braces.
 */
export interface LiteralPart {
  /** The node's discriminant, always `'literal'`. */
  readonly type: 'literal';
  /** The text with quotes and escaping backslashes removed. */
  readonly text: string;
  /** Whether the text was quoted, so never brace-expanded or globbed. */
  readonly quoted: boolean;
}

/**
 * `$NAME`, `${NAME}`, `${NAME op word}` or a special parameter (`?`, `$`, `#`, `0`-`9`, `@`,
 * `*`). `op` is one of `-`, `:-`, `=`, `:=`, `?`, `:?`, `+`, `:+` (defaults and alternatives),
 * `#`, `##`, `%`, `%%` (removing the shortest or longest prefix or suffix matching the pattern
 * `word`), or `length` for `${#NAME}`. An unquoted result is split on IFS whitespace and globbed,
 * as in bash.
 */
export interface ParameterPart {
  /** The node's discriminant, always `'parameter'`. */
  readonly type: 'parameter';
  /** The parameter's name, or the special parameter's character (`?`, `@`, `1`, ...). */
  readonly name: string;
  /** The expansion's operator; undefined for a plain `$NAME` or `${NAME}`. */
  readonly op?:
    | '-'
    | ':-'
    | '='
    | ':='
    | '?'
    | ':?'
    | '+'
    | ':+'
    | '#'
    | '##'
    | '%'
    | '%%'
    | 'length';
  /**
   * The word after the operator (default value, message or pattern); undefined without an operator
   * or for `length`.
   */
  readonly word?: Word;
  /** Whether it stood inside double quotes, so its result is not split or globbed. */
  readonly quoted: boolean;
  /** 1-based column of the `$` within its line; a template value counts as one column. */
  readonly column: number;
  /** 1-based line of the `$`. */
  readonly line: number;
}

/**
 * `$(…)` or `` `…` ``: the script's stdout, trailing newlines removed. An unquoted result is
 * split on IFS whitespace and globbed, as in bash.
 */
export interface CommandSubstitutionPart {
  /** The node's discriminant, always `'command-substitution'`. */
  readonly type: 'command-substitution';
  /** The script whose stdout replaces the part. */
  readonly body: Script;
  /** Whether it stood inside double quotes, so its result is not split or globbed. */
  readonly quoted: boolean;
}

/**
 * `$((expression))`: the expression's text with its own `$NAME` and `$(…)` expanded first, then
 * evaluated as bash does (64-bit integers). Template values inside must be numbers.
 */
export interface ArithmeticPart {
  /** The node's discriminant, always `'arithmetic'`. */
  readonly type: 'arithmetic';
  /** The expression's text as a word, expanded before it is evaluated. */
  readonly expression: Word;
  /** Whether it stood inside double quotes (the result, a number, is then not split). */
  readonly quoted: boolean;
}

/**
 * A value interpolated by the `sh` template (`index` into its values). It is always exactly one
 * word (an array standing alone: one word per element), never split, globbed or parsed.
 */
export interface ValuePart {
  /** The node's discriminant, always `'value'`. */
  readonly type: 'value';
  /** 0-based index into the template's interpolated values. */
  readonly index: number;
  /** Whether it stood inside quotes in the template; the value is one word either way. */
  readonly quoted: boolean;
}

/** `~` (`user` empty) or `~user` at the start of a word or of an assignment's value. */
export interface TildePart {
  /** The node's discriminant, always `'tilde'`. */
  readonly type: 'tilde';
  /** The user name after `~`; empty for the current user's home (`$HOME`). */
  readonly user: string;
}
