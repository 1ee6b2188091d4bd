/**
 * Redirections with their targets expanded, in source order, ready to apply: files with their
 * open mode, fd duplications, here-document and here-string bytes, template values. `>&file` is
 * `&>file`; fds above 2 and closing an fd are refused; a target that expands to nothing or to
 * several words is bash's "ambiguous redirect", a status of that command.
 */

import { ShellUnsupportedError, StatusError } from '../errors.js';
import { type ExpandContext, expandString, expandTarget } from '../expansion/expand.js';
import type { HereDocument, Redirection, Word } from '../syntax/ast.js';
import type { ResolvedRedirection } from './command-stage.js';

/** Expands and checks `list`; see the module comment. */
export async function resolveRedirections(
  list: readonly Redirection[],
  ctx: ExpandContext,
): Promise<ResolvedRedirection[]> {
  const out: ResolvedRedirection[] = [];
  for (const r of list) {
    const fd = r.fd;
    if (fd > 2)
      throw new ShellUnsupportedError(
        `'${fd}${r.op}'`,
        'only file descriptors 0, 1 and 2 can be redirected',
        { line: r.line, column: r.column, offset: 0 },
      );
    if (r.op === '<<' || r.op === '<<-') {
      const doc = r.target as HereDocument;
      out.push({ fd, kind: 'data', data: Buffer.from(await expandString(doc.body, ctx)) });
      continue;
    }
    if (r.op === '<<<') {
      out.push({
        fd,
        kind: 'data',
        data: Buffer.from(`${await expandString(r.target as Word, ctx)}\n`),
      });
      continue;
    }
    const target = await expandTarget(r.target as Word, ctx, r.op.startsWith('<') ? 'in' : 'out');
    if (typeof target !== 'string') {
      out.push({ fd, kind: 'value', value: target });
      if (r.op === '&>' || r.op === '&>>') out.push({ fd: 2, kind: 'dup', from: 1 });
      continue;
    }
    if (r.op === '>&' || r.op === '<&') {
      out.push(...duplication(r, fd, target));
      continue;
    }
    if (target === '') throw new StatusError(1, ': No such file or directory', { report: true });
    out.push(...fileRedirection(r.op, fd, target));
  }
  return out;
}

/** `N>&M` and `N<&M` (M of 0, 1 or 2), and `>&file`, which is `&>file`. */
function duplication(r: Redirection, fd: number, target: string): ResolvedRedirection[] {
  if (/^[0-9]+$/.test(target)) {
    const from = Number(target);
    if (from > 2)
      throw new ShellUnsupportedError(
        `'${r.op}${target}'`,
        'only file descriptors 0, 1 and 2 can be duplicated',
        { line: r.line, column: r.column, offset: 0 },
      );
    return [{ fd, kind: 'dup', from }];
  }
  if (target === '-')
    throw new ShellUnsupportedError(
      `'${r.op}-'`,
      'closing a file descriptor is not part of the language',
      { line: r.line, column: r.column, offset: 0 },
    );
  if (r.op === '<&') throw new StatusError(1, `${target}: ambiguous redirect`, { report: true });
  // `>&file` is `&>file`.
  return [
    { fd: 1, kind: 'file', path: target, mode: 'w' },
    { fd: 2, kind: 'dup', from: 1 },
  ];
}

/** A redirection to or from a file, by its operator. */
function fileRedirection(op: Redirection['op'], fd: number, target: string): ResolvedRedirection[] {
  switch (op) {
    case '<':
      return [{ fd, kind: 'file', path: target, mode: 'r' }];
    case '<>':
      return [{ fd, kind: 'file', path: target, mode: 'rw' }];
    case '>':
    case '>|':
      return [{ fd, kind: 'file', path: target, mode: 'w' }];
    case '>>':
      return [{ fd, kind: 'file', path: target, mode: 'a' }];
    case '&>':
    case '&>>':
      return [
        { fd: 1, kind: 'file', path: target, mode: op === '&>' ? 'w' : 'a' },
        { fd: 2, kind: 'dup', from: 1 },
      ];
  }
  return [];
}
