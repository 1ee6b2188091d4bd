/**
 * The face of the shell language in sluice/pipe: the `sh` template (from `./shell/`) and, for
 * one minor version, the 0.1 helpers `parse`, `parseCommandLine` and `toStages`, which accept only
 * what the 0.1 grammar accepted (one pipeline of plain words and `<`, `>`, `>>`, `2>`, `2>>`,
 * `2>&1`) and refuse the rest.
 */

import { ShellUnsupportedError } from './shell/errors.js';
import { isStage } from './shell/expansion/values.js';
import type { LiteralPart, Word } from './shell/syntax/ast.js';
import { parseTemplate } from './shell/syntax/parser.js';
import type { Stage } from './stage.js';
import { command, type StderrOption } from './stages/command.js';

export { ShellPipeline, type ShellResult, type ShOptions, sh } from './shell/index.js';

/**
 * One command of a parsed command line.
 * @deprecated Since 0.2: use `parseScript` and its `SimpleCommand` nodes.
 */
export interface ParsedCommand {
  /** Tells a command from a `stage` element. */
  kind: 'command';
  /** The program and its arguments, quotes removed and template values substituted. */
  argv: string[];
  /** The file after `<`; undefined without one. */
  stdinFile?: string;
  /** The file after `>` or `>>`; undefined without one. */
  stdoutFile?: string;
  /** Whether stdout appends to `stdoutFile` (`>>`) instead of truncating it. */
  stdoutAppend?: boolean;
  /** `2>&1` gives `'stdout'`; `2>` or `2>>` a file; undefined leaves stderr as the pipeline sets it. */
  stderr?:
    | 'stdout'
    | {
        /** The file stderr goes to. */
        file: string;
        /** Whether it appends (`2>>`) instead of truncating (`2>`). */
        append: boolean;
      };
}

/**
 * One element of a parsed pipeline.
 * @deprecated Since 0.2: use `parseScript`.
 */
export type ParsedElement =
  | ParsedCommand
  | {
      /** Tells a stage interpolated into the template from a command. */
      kind: 'stage';
      /** The stage, as interpolated. */
      stage: Stage;
    };

function refuse(reason: string, at: { line: number; column: number }): never {
  throw new ShellUnsupportedError(
    reason,
    'parse() and parseCommandLine() accept only the 0.1 grammar; use parseScript',
    {
      ...at,
      offset: 0,
    },
  );
}

/**
 * Parses template pieces and values into pipeline elements (0.1 grammar only).
 * @deprecated Since 0.2: use `parseTemplate` (the AST) or `sh` (to run it).
 */
export function parse(pieces: readonly string[], values: readonly unknown[] = []): ParsedElement[] {
  const script = parseTemplate(pieces, values.length);
  if (script.statements.length !== 1 || script.statements[0]!.rest.length > 0)
    refuse('more than one pipeline', script);
  const pl = script.statements[0]!.first;
  if (pl.negated) refuse("'!'", pl);
  const text = (w: Word): string[] => {
    if (w.parts.length === 1 && w.parts[0]!.type === 'value') {
      const v = values[w.parts[0]!.index];
      return Array.isArray(v) ? v.map(String) : [String(v)];
    }
    let s = '';
    for (const p of w.parts) {
      if (p.type === 'value') s += String(values[p.index]);
      else if (p.type === 'literal' && (p.quoted || !/[*?[{~]/.test(p.text)))
        s += (p as LiteralPart).text;
      else refuse('an expansion', w);
    }
    return [s];
  };
  return pl.commands.map((c): ParsedElement => {
    if (c.type === 'group') return refuse('a group', c);
    if (c.assignments.length > 0) refuse('an assignment', c);
    const only = c.words[0];
    if (
      c.words.length === 1 &&
      c.redirections.length === 0 &&
      only!.parts.length === 1 &&
      only!.parts[0]!.type === 'value'
    ) {
      const v = values[(only!.parts[0] as { index: number }).index];
      if (isStage(v)) return { kind: 'stage', stage: v };
    }
    const out: ParsedCommand = { kind: 'command', argv: c.words.flatMap(text) };
    for (const r of c.redirections) {
      const file = r.target.type === 'word' ? text(r.target)[0]! : refuse('a here-document', r);
      if (r.op === '<' && r.fd === 0) out.stdinFile = file;
      else if ((r.op === '>' || r.op === '>>') && r.fd === 1) {
        out.stdoutFile = file;
        out.stdoutAppend = r.op === '>>';
      } else if ((r.op === '>' || r.op === '>>') && r.fd === 2)
        out.stderr = { file, append: r.op === '>>' };
      else if (r.op === '>&' && r.fd === 2 && file === '1') out.stderr = 'stdout';
      else refuse(`'${r.op}'`, r);
    }
    return out;
  });
}

/**
 * Parses a `sluice run` command line into commands (0.1 grammar only).
 * @deprecated Since 0.2: use `parseScript`.
 */
export function parseCommandLine(text: string): ParsedCommand[] {
  return parse([text]) as ParsedCommand[];
}

/**
 * Turns parsed elements into stages.
 * @deprecated Since 0.2: use `sh` or the `Interpreter`.
 */
export function toStages(elements: readonly ParsedElement[], stderr?: StderrOption): Stage[] {
  return elements.map((e) => {
    if (e.kind === 'stage') return e.stage;
    const [file, ...args] = e.argv;
    return command(file!, args, {
      stdinFile: e.stdinFile,
      stdoutFile: e.stdoutFile,
      stdoutAppend: e.stdoutAppend,
      stderr: e.stderr ?? stderr,
    });
  });
}
