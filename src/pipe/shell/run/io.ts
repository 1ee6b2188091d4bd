/**
 * The three standard streams a script (or a part of it) runs with, and the helpers that write a
 * builtin's text to them and apply a group's or builtin's redirections in-process.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { StderrOption } from '../../stages/command.js';
import { StatusError } from '../errors.js';
import type { ResolvedRedirection } from './command-stage.js';
import { describeErrno } from './command-stage.js';

/**
 * A script's standard streams. `stdin`: an fd, a Readable, bytes, or nothing (/dev/null).
 * `stdout`: an fd, a Writable, or nothing (/dev/null). `stderr`: as a command's `stderr` option.
 */
export interface ShellIO {
  /** The script's input: an fd, a Readable, bytes, or undefined for /dev/null. */
  readonly stdin: number | Readable | Uint8Array | undefined;
  /** Where the script's output goes: an fd, a Writable, or undefined for /dev/null. */
  readonly stdout: number | Writable | undefined;
  /** Where the script's errors go, as a command's `stderr` option takes it. */
  readonly stderr: StderrOption;
}

/** Writes text to an output of `ShellIO`, waiting for it to be accepted. */
export async function writeText(
  target: number | Writable | StderrOption | undefined,
  text: string,
): Promise<void> {
  if (text === '' || target === undefined || target === 'ignore' || target === 'capture') return;
  if (target === 'inherit') return writeText(2, text);
  if (target === 'stdout') return;
  if (typeof target === 'number') {
    const b = Buffer.from(text);
    for (let off = 0; off < b.length; ) {
      try {
        off += writeSync(target, b, off);
      } catch (e) {
        if ((e as { code?: string }).code === 'EAGAIN') {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        throw e;
      }
    }
    return;
  }
  if (typeof target === 'object' && 'file' in target) return;
  const w = target as Writable;
  if (w.destroyed || w.writableEnded) {
    const e = new Error('write EPIPE') as Error & { code: string };
    e.code = 'EPIPE';
    throw e;
  }
  await new Promise<void>((res, rej) => {
    w.write(text, (err) => (err ? rej(err) : res()));
  });
}

/**
 * Applies redirections to `io` in-process (for builtins and groups): files are opened (and
 * closed by the returned `close`), dups copy a slot, data becomes stdin bytes. Rejects with a
 * `StatusError` (status 1) when a file cannot be opened, with nothing left open.
 */
export function redirectIO(
  io: ShellIO,
  redirections: readonly ResolvedRedirection[],
  cwd: string,
): { io: ShellIO; close: () => void } {
  type Any = ShellIO['stdin'] | ShellIO['stdout'] | StderrOption;
  const slots: Any[] = [io.stdin, io.stdout, io.stderr];
  const owned: number[] = [];
  const close = () => {
    for (const fd of owned.splice(0)) {
      try {
        closeSync(fd);
      } catch {}
    }
  };
  for (const r of redirections) {
    if (r.kind === 'file') {
      try {
        const flags = { r: 'r', w: 'w', a: 'a', rw: 'r+' }[r.mode];
        const fd = openSync(isAbsolute(r.path) ? r.path : resolve(cwd, r.path), flags, 0o666);
        owned.push(fd);
        slots[r.fd] = fd;
      } catch (e) {
        close();
        throw new StatusError(1, `${r.path}: ${describeErrno(e)}`, { cause: e, report: true });
      }
    } else if (r.kind === 'dup') {
      // stderr's 'stdout' means "wherever stdout is", so resolve it now.
      const from = slots[r.from];
      slots[r.fd] = from === 'inherit' && r.from === 2 ? 2 : from;
    } else if (r.kind === 'data') slots[r.fd] = r.data;
    else {
      const v = r.value;
      slots[r.fd] = v.kind === 'bytes' ? v.data : v.kind === 'fd' ? v.fd : v.stream;
    }
  }
  const [i, o, e] = slots;
  const stdin =
    typeof i === 'number' || i instanceof Uint8Array || i instanceof Readable || i === undefined
      ? i
      : undefined;
  const stdout = typeof o === 'number' || isWritable(o) ? o : o === 'inherit' ? 2 : undefined;
  const stderr: StderrOption =
    e === undefined
      ? 'ignore'
      : typeof e === 'number' || isWritable(e)
        ? e
        : typeof e === 'string'
          ? (e as StderrOption)
          : 'ignore';
  return { io: { stdin, stdout, stderr }, close };
}

function isWritable(v: unknown): v is Writable {
  return typeof v === 'object' && v !== null && typeof (v as Writable).write === 'function';
}
