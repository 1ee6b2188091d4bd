/**
 * The part of node-pty sessions use: its native `fork` (forkpty: a new session whose controlling
 * terminal is the PTY, so the child leads its own session and process group) and `resize`.
 *
 * node-pty's JavaScript wrapper is not used, because of what its users hit on Linux: it reports
 * the exit after the PTY closes *or* 200 ms after the child was reaped, whichever is first, and
 * in the second case destroys the reader with output still unread (the last output before the
 * exit is lost when the event loop is busy or a grandchild keeps the terminal open); and its
 * master fd is inherited by every child spawned later. `PtySession` owns the fd instead: it reads
 * it, drains it synchronously when the exit arrives, and closes it.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

/** What node-pty's native `fork` returns. */
export interface NativeTerm {
  fd: number;
  pid: number;
  pty: string;
}

/** node-pty's native functions sessions call (its `fork` and `resize`). */
export interface PtyNative {
  fork(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    cols: number,
    rows: number,
    uid: number,
    gid: number,
    utf8: boolean,
    helperPath: string,
    onExit: (code: number, signal: number) => void,
  ): NativeTerm;
  resize(fd: number, cols: number, rows: number): void;
}

let loaded: { native: PtyNative; helperPath: string } | Error | undefined;

/** Loads node-pty's native module once; throws the load error (every time) when it cannot. */
export function ptyNative(): { native: PtyNative; helperPath: string } {
  if (loaded === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const utilsPath = require.resolve('node-pty/lib/utils.js');
      const utils = require(utilsPath) as {
        loadNativeModule(name: string): { dir: string; module: PtyNative };
      };
      const { dir, module } = utils.loadNativeModule('pty');
      if (typeof module.fork !== 'function' || typeof module.resize !== 'function') {
        throw new Error('node-pty native module has no fork/resize');
      }
      loaded = { native: module, helperPath: resolve(dirname(utilsPath), dir, 'spawn-helper') };
    } catch (e) {
      loaded = e instanceof Error ? e : new Error(String(e));
    }
  }
  if (loaded instanceof Error) throw loaded;
  return loaded;
}
