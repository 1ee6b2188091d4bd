/**
 * Newline-delimited JSON over a line iterator: the framing of JSON-RPC and MCP stdio servers.
 */

/**
 * Every non-empty line of `lines` parsed with `JSON.parse`. A line that is not JSON goes to
 * `onParseError` and is skipped, never thrown into the consumer's loop. `return()` is passed on.
 */
export function jsonMessages<T>(
  lines: AsyncIterator<string>,
  onParseError: (line: string, error: Error) => void,
): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        const r = await lines.next();
        if (r.done) return { done: true, value: undefined };
        const text = r.value.trim();
        if (text.length === 0) continue;
        try {
          return { done: false, value: JSON.parse(text) as T };
        } catch (e) {
          onParseError(r.value, e as Error);
        }
      }
    },
    async return(): Promise<IteratorResult<T>> {
      await lines.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * One line of JSON for `value`, or an error saying why there is none (`JSON.stringify` threw,
 * or gave `undefined` for a function, a symbol or `undefined`).
 */
export function toJsonLine(value: unknown): { line: string } | { error: string; cause?: unknown } {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    return { error: `cannot send: ${(e as Error).message}`, cause: e };
  }
  if (text === undefined) return { error: `cannot send ${typeof value} as JSON` };
  return { line: `${text}\n` };
}
