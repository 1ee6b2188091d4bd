/**
 * xterm.js, loaded with the first screen rather than with the module: it costs about 10 MB of
 * RSS and 45 ms, which a daemon that runs only pipe sessions (or none yet) should not pay.
 */
import { createRequire } from 'node:module';
import type * as XtermHeadless from '@xterm/headless';

/** A headless xterm.js terminal. */
export type HeadlessTerminal = XtermHeadless.Terminal;

/**
 * The part of xterm.js's serialize addon sluice uses, declared here rather than imported: the
 * addon's own typings import `@xterm/xterm` (the browser package), which a headless install
 * does not have, so importing them would break type checks of programs that use sluice.
 */
export interface SerializeAddon {
  serialize(options?: {
    range?: { start: number; end: number };
    scrollback?: number;
    excludeModes?: boolean;
    excludeAltBuffer?: boolean;
  }): string;
  dispose(): void;
}

const requireCjs = createRequire(import.meta.url);
let xtermModules:
  | {
      Terminal: typeof XtermHeadless.Terminal;
      SerializeAddon: new () => SerializeAddon;
    }
  | undefined;
/** The two modules, loaded on the first call. */
export function xterm(): NonNullable<typeof xtermModules> {
  xtermModules ??= {
    Terminal: (requireCjs('@xterm/headless') as typeof XtermHeadless).Terminal,
    SerializeAddon: (
      requireCjs('@xterm/addon-serialize') as { SerializeAddon: new () => SerializeAddon }
    ).SerializeAddon,
  };
  return xtermModules;
}

/** A headless terminal of this size, with the buffer API on and logging off. */
export function makeTerminal(
  rows: number,
  cols: number,
  scrollback: number,
  reflowCursorLine = false,
): HeadlessTerminal {
  return new (xterm().Terminal)({
    rows,
    cols,
    scrollback,
    allowProposedApi: true, // the buffer API the serializer and text rendering read
    logLevel: 'off',
    // The session's own screen leaves the cursor line alone on resize, as xterm does: the
    // program (a shell redrawing its prompt on SIGWINCH) rewrites it. A viewer's scratch copy
    // has no program behind it, so there the cursor line is rewrapped too.
    reflowCursorLine,
  });
}
