/**
 * What a finished script produced, and the bounded collectors that gather its stdout and stderr
 * for the template.
 */
import { Writable } from 'node:stream';

/** What a finished script produced (`await sh\`…\``). */
export interface ShellResult {
  /** The script's exit status, as bash's `$?` at its end. */
  readonly exitCode: number;
  /** Everything the script wrote to stdout (empty when `stdout` was given as an option). */
  readonly stdout: Buffer;
  /** Everything written to stderr, when it was collected (the default). */
  readonly stderr: Buffer;
  /** `stdout` as UTF-8. */
  text(): string;
  /** `stdout` parsed as JSON. */
  json<T = unknown>(): T;
  /** `stdout` split into lines (without their `\n`; no empty last line). */
  lines(): string[];
}

export const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/** A bounded collector: keeps the first `max` bytes (or, with `keepEnd`, the last ones). */
export class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  size = 0;
  overflow = false;
  readonly #max: number;
  readonly #keepEnd: boolean;
  readonly #onOverflow: (() => void) | undefined;
  readonly #echo: Writable | undefined;
  constructor(max: number, keepEnd: boolean, echo?: Writable, onOverflow?: () => void) {
    super();
    this.#max = max;
    this.#keepEnd = keepEnd;
    this.#echo = echo;
    this.#onOverflow = onOverflow;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#echo?.write(chunk);
    this.size += chunk.length;
    if (!this.#keepEnd && this.size > this.#max) {
      if (!this.overflow) {
        this.overflow = true;
        const room = this.#max - (this.size - chunk.length);
        if (room > 0) this.chunks.push(chunk.subarray(0, room));
        this.#onOverflow?.();
      }
      cb();
      return;
    }
    this.chunks.push(chunk);
    if (this.#keepEnd) {
      let total = this.chunks.reduce((n, c) => n + c.length, 0);
      while (total - this.chunks[0]!.length >= this.#max) total -= this.chunks.shift()!.length;
    }
    cb();
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export function makeResult(exitCode: number, stdout: Buffer, stderr: Buffer): ShellResult {
  return {
    exitCode,
    stdout,
    stderr,
    text: () => stdout.toString('utf8'),
    json: <T>() => JSON.parse(stdout.toString('utf8')) as T,
    lines: () => {
      const t = stdout.toString('utf8');
      if (t === '') return [];
      return t.replace(/\n$/, '').split('\n');
    },
  };
}
