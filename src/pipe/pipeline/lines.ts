/** The iterator behind `Pipeline.lines()`. */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** What the iterator needs from its pipeline. */
export interface LineSource {
  _startCapture(): Readable;
  _finishEarly(): Promise<void>;
  wait(): Promise<void>;
}

/**
 * Yields the lines of `p`'s final stdout: starts it on the first `next()`, splits on `\n` (a
 * `\r` before it is dropped), yields a last line without a newline, then waits for the pipeline
 * and throws its error. `return()` (leaving a loop early) stops the pipeline.
 */
export function linesIterator(p: LineSource): AsyncIterator<string> {
  let readable: Readable | undefined;
  let source: AsyncIterator<unknown> | undefined;
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let pos = 0;
  let ended = false;
  let finished = false;
  const take = (): string | undefined => {
    const at = buf.indexOf('\n', pos);
    if (at < 0) return undefined;
    let line = buf.slice(pos, at);
    pos = at + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return line;
  };
  return {
    async next(): Promise<IteratorResult<string>> {
      if (finished) return { done: true, value: undefined };
      if (!readable) {
        readable = p._startCapture();
        source = readable[Symbol.asyncIterator]();
      }
      for (;;) {
        const line = take();
        if (line !== undefined) return { done: false, value: line };
        if (ended) {
          const rest = buf.slice(pos);
          buf = '';
          pos = 0;
          if (rest !== '')
            return { done: false, value: rest.endsWith('\r') ? rest.slice(0, -1) : rest };
          finished = true;
          await p.wait();
          return { done: true, value: undefined };
        }
        let r: IteratorResult<unknown>;
        try {
          r = await source!.next();
        } catch {
          r = { done: true, value: undefined };
        }
        if (r.done) {
          ended = true;
          buf = buf.slice(pos) + decoder.end();
          pos = 0;
        } else {
          buf = buf.slice(pos) + decoder.write(r.value as Buffer);
          pos = 0;
        }
      }
    },
    async return(): Promise<IteratorResult<string>> {
      if (!finished) {
        finished = true;
        if (readable) await p._finishEarly();
      }
      return { done: true, value: undefined };
    },
  };
}
