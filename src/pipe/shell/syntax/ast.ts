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
  readonly type: 'script';
  readonly statements: readonly Statement[];
}

/**
 * Pipelines joined by `&&` and `||` (bash's "and-or list"): `rest[i]` runs when the status so far
 * is zero (`&&`) or non-zero (`||`).
 */
export interface Statement extends Position {
  readonly type: 'statement';
  readonly first: PipelineNode;
  readonly rest: readonly { readonly op: '&&' | '||'; readonly pipeline: PipelineNode }[];
}

/**
 * Commands joined by `|`, stdout to stdin through kernel pipes. `negated` is a leading `!`
 * (status 0 becomes 1, anything else 0).
 */
export interface PipelineNode extends Position {
  readonly type: 'pipeline';
  readonly negated: boolean;
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
  readonly type: 'simple';
  readonly assignments: readonly Assignment[];
  readonly words: readonly Word[];
  readonly redirections: readonly Redirection[];
}

/**
 * `( … )` (`subshell: true`: runs in a copy of the shell's state, so `cd` and variables inside do
 * not leak out) or `{ …; }` (runs in the shell itself), with redirections applied to the whole
 * group.
 */
export interface Group extends Position {
  readonly type: 'group';
  readonly subshell: boolean;
  readonly body: Script;
  readonly redirections: readonly Redirection[];
}

/** `NAME=value` (`append`: `NAME+=value`). */
export interface Assignment extends Position {
  readonly type: 'assignment';
  readonly name: string;
  readonly append: boolean;
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
  readonly type: 'redirection';
  readonly op: RedirectionOp;
  readonly fd: number;
  readonly target: Word | HereDocument;
}

/**
 * The body of a here-document. `quoted` (the delimiter was quoted) means the body is taken
 * literally; otherwise `$NAME`, `$(…)` and backslash escapes in it are expanded. `<<-` has
 * already removed leading tabs.
 */
export interface HereDocument extends Position {
  readonly type: 'heredoc';
  readonly delimiter: string;
  readonly quoted: boolean;
  readonly body: Word;
}

/** A word before expansion: the pieces it was written with, in order. */
export interface Word extends Position {
  readonly type: 'word';
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
  readonly type: 'literal';
  readonly text: string;
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
  readonly type: 'parameter';
  readonly name: string;
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
  readonly word?: Word;
  readonly quoted: boolean;
  readonly column: number;
  readonly line: number;
}

/**
 * `$(…)` or `` `…` ``: the script's stdout, trailing newlines removed. An unquoted result is
 * split on IFS whitespace and globbed, as in bash.
 */
export interface CommandSubstitutionPart {
  readonly type: 'command-substitution';
  readonly body: Script;
  readonly quoted: boolean;
}

/**
 * `$((expression))`: the expression's text with its own `$NAME` and `$(…)` expanded first, then
 * evaluated as bash does (64-bit integers). Template values inside must be numbers.
 */
export interface ArithmeticPart {
  readonly type: 'arithmetic';
  readonly expression: Word;
  readonly quoted: boolean;
}

/**
 * A value interpolated by the `sh` template (`index` into its values). It is always exactly one
 * word (an array standing alone: one word per element), never split, globbed or parsed.
 */
export interface ValuePart {
  readonly type: 'value';
  readonly index: number;
  readonly quoted: boolean;
}

/** `~` (`user` empty) or `~user` at the start of a word or of an assignment's value. */
export interface TildePart {
  readonly type: 'tilde';
  readonly user: string;
}
