// Loaded with --import into every test process (scripts/test.mjs). A failing `assert.ok(value)`
// without a message makes Node write one from the call's source: it reads the file named by the
// call site at the call site's line and column and parses it with acorn. Under tsx that position
// is one in the transpiled module, which is all on line 1, so Node 20 parses the TypeScript file
// from its top, expression after expression, for minutes: the test hangs until its timeout
// instead of failing with the assertion (Node 24 does not). So `ok` here supplies the message
// itself — the source line the source-mapped stack names — and leaves everything else to Node.
import assert from 'node:assert';
import strict from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

for (const target of new Set([assert, strict])) {
  const ok = target.ok;
  target.ok = function okWithMessage(...args) {
    if (args.length === 0 || args[0] || args[1] !== undefined) return ok.apply(this, args);
    // What Node's own ok throws, with the stack starting at the caller.
    throw new assert.AssertionError({
      message: sourceLineMessage(okWithMessage),
      actual: args[0],
      expected: true,
      operator: '==',
      stackStartFn: okWithMessage,
    });
  };
}

/** "The expression evaluated to a falsy value:" and the caller's source line, when it can be read. */
function sourceLineMessage(fn) {
  const heading = 'The expression evaluated to a falsy value:';
  try {
    const holder = {};
    Error.captureStackTrace(holder, fn);
    const frame = String(holder.stack).split('\n')[1] ?? '';
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(frame);
    if (m === null) return `${heading} (source not found)`;
    const path = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    const line = readFileSync(path, 'utf8').split('\n')[Number(m[2]) - 1];
    return `${heading}\n\n  ${line?.trim() ?? '?'}\n`;
  } catch {
    return `${heading} (source not readable)`;
  }
}
