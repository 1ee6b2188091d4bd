/**
 * Function stages that work token by token: `linewise` (LF-terminated lines) and `scanner` (any
 * separator). Output is batched: every line produced from one input chunk goes out in one write.
 */
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { InvalidOptionError } from '../../proc/index.js';
import { ClosedPipeError, PipeError } from '../errors.js';
import type { Stage } from '../stage.js';
import { type FnContext, FunctionStage } from './function.js';

/** What a line (or token) callback may return: lines to write (each gets a `\n`), or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing is allowed.
export type LineResult = string | readonly string[] | undefined | null | void;

/** What a line callback is given besides the line. */
export interface LineContext extends FnContext {
  /** 1-based number of the current line (token). */
  readonly lineNumber: number;
  /** Writes more lines (each gets a `\n`) before whatever the callback returns. */
  push(...lines: string[]): void;
}

/** The callback of `linewise` and `scanner`. */
export type LineFunction = (line: string, ctx: LineContext) => LineResult | Promise<LineResult>;

/**
 * How `scanner` splits its input: `'lines'` (LF, the line excludes it; a `\r` before it is kept,
 * as go-pipe's LinewiseFunction does), `'words'` (runs of whitespace; empty tokens dropped),
 * any other string (a separator; empty tokens kept), a RegExp (a separator; empty tokens dropped),
 * or a function that takes the text buffered so far and whether input ended, and returns the
 * complete tokens and the text to keep for later.
 */
export type Split =
  | 'lines'
  | 'words'
  | string
  | RegExp
  | ((
      buffered: string,
      eof: boolean,
    ) => {
      /** The complete tokens found in `buffered`, in order. */
      tokens: string[];
      /** The text to keep and prepend to the next input (ignored once `eof` is true). */
      rest: string;
    });

/** Options of `linewise` and `scanner`. */
export interface ScannerOptions {
  /**
   * A token longer than this many characters fails the stage.
   * @default 16777216 (16 Mi characters)
   */
  maxTokenLength?: number;
}

/**
 * A function stage that calls `f` for every line of its stdin (split on LF; the last line need
 * not end with one) and writes what it returns, each line followed by `\n`.
 *
 * Guarantees: lines arrive in order, one call at a time (an async `f` is awaited before the next
 * line); everything produced before `f` throws is written before the stage ends (go-pipe's
 * TestScannerAlwaysFlushes); throwing `FinishEarly` stops reading and counts as success; the
 * pipeline's abort stops it between chunks; write errors (the reader went away) end it with that
 * pipe error.
 *
 * @example
 * ```ts
 * const upper = linewise('upper', (line) => line.toUpperCase());
 * const text = await pipeline().add(command('cat', [file]), upper).text();
 * ```
 */
export function linewise(name: string, f: LineFunction, options: ScannerOptions = {}): Stage {
  return scanner(name, 'lines', f, options);
}

/**
 * Like `linewise`, with tokens made by `split` (see `Split`).
 *
 * @example
 * ```ts
 * const words = scanner('words', 'words', (w) => w.toLowerCase());
 * ```
 */
export function scanner(
  name: string,
  split: Split,
  f: LineFunction,
  options: ScannerOptions = {},
): Stage {
  if (typeof f !== 'function') throw new InvalidOptionError('f', `${name}: not a function`);
  const splitter = makeSplitter(name, split);
  const maxLen = options.maxTokenLength ?? 16 * 1024 * 1024;
  return new FunctionStage(name, (ctx, stdin, stdout) =>
    scan(ctx, stdin, stdout, splitter, f, maxLen),
  );
}

type Splitter = ((buffered: string, eof: boolean) => { tokens: string[]; rest: string }) & {
  /** Set for plain separators: the scan loop then splits inline, without token arrays. */
  separator?: string;
};

function makeSplitter(name: string, split: Split): Splitter {
  if (split === 'lines') return bySeparator('\n', false);
  if (split === 'words') return byRegExp(/\s+/);
  if (typeof split === 'string') {
    if (split === '') throw new InvalidOptionError('split', `${name}: empty separator`);
    return bySeparator(split, false);
  }
  if (split instanceof RegExp) return byRegExp(split);
  if (typeof split === 'function') return split;
  throw new InvalidOptionError('split', `${name}: invalid split ${String(split)}`);
}

function bySeparator(sep: string, dropEmpty: boolean): Splitter {
  const f: Splitter = (text, eof) => {
    const tokens: string[] = [];
    let from = 0;
    for (;;) {
      const at = text.indexOf(sep, from);
      if (at < 0) break;
      const t = text.slice(from, at);
      if (!dropEmpty || t !== '') tokens.push(t);
      from = at + sep.length;
    }
    let rest = from === 0 ? text : text.slice(from);
    if (eof && rest !== '') {
      tokens.push(rest);
      rest = '';
    }
    return { tokens, rest };
  };
  if (!dropEmpty) f.separator = sep;
  return f;
}

function byRegExp(re: RegExp): Splitter {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return (text, eof) => {
    const tokens: string[] = [];
    let from = 0;
    global.lastIndex = 0;
    for (let m = global.exec(text); m; m = global.exec(text)) {
      if (m[0] === '') {
        global.lastIndex++;
        continue;
      }
      // A separator touching the end may go on in the next chunk: keep it for later.
      if (!eof && m.index + m[0].length === text.length) break;
      const t = text.slice(from, m.index);
      if (t !== '') tokens.push(t);
      from = m.index + m[0].length;
    }
    let rest = text.slice(from);
    if (eof) {
      if (rest !== '') tokens.push(rest);
      rest = '';
    }
    return { tokens, rest };
  };
}

function isThenable(v: unknown): v is Promise<LineResult> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** The output side of a scan: lines produced for the current chunk, written in one piece. */
class ScanOutput {
  /** Output of the current chunk, built as one string (V8 concatenates in O(1) per piece). */
  out = '';
  lineNumber = 0;
  writeError: Error | undefined;
  readonly #stdout: Writable;

  constructor(stdout: Writable) {
    this.#stdout = stdout;
    stdout.on('error', (e) => {
      this.writeError ??= e;
    });
  }

  emit(r: LineResult): void {
    if (r === undefined || r === null) return;
    if (typeof r === 'string') this.out += `${r}\n`;
    else for (const l of r as readonly string[]) this.out += `${l}\n`;
  }

  async flush(): Promise<void> {
    if (this.out === '') return;
    const text = this.out;
    this.out = '';
    if (this.writeError) throw this.writeError;
    if (!this.#stdout.write(text)) await drained(this.#stdout);
    if (this.writeError) throw this.writeError;
  }
}

/** The context a line callback gets: the stage's, plus the line number and `push`. */
function lineContext(ctx: FnContext, o: ScanOutput): LineContext {
  return Object.create(ctx, {
    lineNumber: { get: () => o.lineNumber },
    push: {
      value: (...lines: string[]) => {
        for (const l of lines) o.out += `${l}\n`;
      },
    },
  });
}

/** Calls `f` on each token, in order, awaiting an async result before the next. */
async function feed(o: ScanOutput, lctx: LineContext, f: LineFunction, tokens: string[]) {
  for (const t of tokens) {
    o.lineNumber++;
    const r = f(t, lctx);
    o.emit(isThenable(r) ? await r : r);
  }
}

/**
 * The common case (a plain separator, lines): splits `text` inline without token arrays, calls
 * `f` on each complete token, and returns the unfinished rest.
 */
async function feedSeparated(
  o: ScanOutput,
  lctx: LineContext,
  f: LineFunction,
  text: string,
  sep: string,
): Promise<string> {
  let from = 0;
  for (let at = text.indexOf(sep); at >= 0; at = text.indexOf(sep, from)) {
    const line = text.slice(from, at);
    from = at + sep.length;
    o.lineNumber++;
    const r = f(line, lctx);
    // Strings first: most callbacks return one, and probing a string for `then` is slow.
    if (typeof r === 'string') o.out += `${r}\n`;
    else if (r !== undefined && r !== null) o.emit(isThenable(r) ? await r : r);
  }
  return from === 0 ? text : text.slice(from);
}

async function scan(
  ctx: FnContext,
  stdin: Readable,
  stdout: Writable,
  split: Splitter,
  f: LineFunction,
  maxLen: number,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  const o = new ScanOutput(stdout);
  const lctx = lineContext(ctx, o);
  const sep = split.separator;
  let buffered = '';
  try {
    for await (const chunk of stdin) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const text = buffered + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
      if (sep !== undefined) {
        buffered = await feedSeparated(o, lctx, f, text, sep);
      } else {
        const { tokens, rest } = split(text, false);
        buffered = rest;
        await feed(o, lctx, f, tokens);
      }
      if (buffered.length > maxLen) {
        throw new PipeError(
          'ERR_SLUICE_PIPE_TOKEN_TOO_LONG',
          `${ctx.name}: a token is longer than ${maxLen} characters`,
        );
      }
      await o.flush();
    }
    buffered += decoder.end();
    await feed(o, lctx, f, split(buffered, true).tokens);
  } finally {
    // Whatever was produced before an error (or FinishEarly) still goes out.
    if (!o.writeError) await o.flush().catch(() => {});
  }
  if (o.writeError) throw o.writeError;
}

/**
 * Resolves on 'drain'; rejects if the stream errors or closes first, or already has (so a writer
 * whose reader went away never waits forever).
 */
export function drained(w: Writable): Promise<void> {
  if (w.destroyed || w.writableEnded) return Promise.reject(brokenError(w));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      w.off('drain', onDrain);
      w.off('error', onError);
      w.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: Error) => done(e);
    const onClose = () => done(brokenError(w));
    w.on('drain', onDrain);
    w.on('error', onError);
    w.on('close', onClose);
  });
}

function brokenError(w: Writable): Error {
  return w.errored ?? new ClosedPipeError('stdout is closed');
}

/**
 * Writes `chunk` to a function stage's stdout with backpressure: resolves at once when the
 * stream takes it, otherwise on 'drain'; rejects with the stream's error (EPIPE,
 * `ClosedPipeError`, …) when the reader has gone, instead of waiting forever.
 */
export function write(stdout: Writable, chunk: string | Uint8Array): Promise<void> {
  if (stdout.destroyed || stdout.writableEnded) return Promise.reject(brokenError(stdout));
  if (stdout.write(chunk)) return Promise.resolve();
  return drained(stdout);
}
