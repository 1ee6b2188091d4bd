/** Source stages that write fixed text (go-pipe's Print and Println). */

import type { Writable } from 'node:stream';
import type { Stage } from '../stage.js';
import { FunctionStage } from './function.js';
import { write } from './linewise.js';

/**
 * A value `print` and `println` accept: strings as UTF-8, numbers, bigints and booleans as
 * `String()` renders them, bytes verbatim.
 */
export type Printable = string | number | bigint | boolean | Uint8Array;

function render(v: Printable): string | Uint8Array {
  return v instanceof Uint8Array ? v : String(v);
}

async function writeAll(stdout: Writable, parts: (string | Uint8Array)[]) {
  for (const p of parts) await write(stdout, p);
}

/**
 * A source stage that writes `values` one after the other (strings as UTF-8, bytes as is),
 * with nothing between them. It forbids stdin: connecting anything before it is a
 * `PipeUsageError` at `start()`.
 *
 * @example
 * ```ts
 * await pipeline({ stdout: process.stdout }).add(print('b\na\n'), command('sort')).run();
 * ```
 */
export function print(...values: Printable[]): Stage {
  return new FunctionStage(
    'print',
    (_ctx, _stdin, stdout) => writeAll(stdout, values.map(render)),
    {
      stdin: 'none',
    },
  );
}

/**
 * Like `print`, with values separated by spaces and a final newline (as `console.log`).
 *
 * @example
 * ```ts
 * const n = await pipeline().add(println('a b c'), command('wc', ['-w'])).text(); // "3\n"
 * ```
 */
export function println(...values: Printable[]): Stage {
  const text = `${values.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString() : String(v))).join(' ')}\n`;
  return new FunctionStage('println', (_ctx, _stdin, stdout) => writeAll(stdout, [text]), {
    stdin: 'none',
  });
}
