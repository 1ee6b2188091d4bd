/**
 * Gives this process a low fd limit once its modules are loaded, for fixtures that test what
 * happens when fds run out. Starting the whole process under `ulimit -n 64` tests the module
 * loader instead: tsx transpiles with a cold cache through an esbuild service and reads many
 * files at once, so on some Node versions (24) the process holds 60+ fds while loading and fails
 * with EMFILE before the fixture runs. So the limit is set from what the process holds once
 * loaded: `headroom` fds to spare. Uses `prlimit` (util-linux) on this process's own pid.
 */
import { execFileSync } from 'node:child_process';
import { countOpenFds } from '../../src/proc/index.js';

/** Sets RLIMIT_NOFILE (soft and hard) to the fds open now plus `headroom`; returns the limit. */
export function limitFdsTo(headroom: number): number {
  if (!Number.isInteger(headroom) || headroom <= 0) throw new Error(`bad headroom ${headroom}`);
  const limit = countOpenFds() + headroom;
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}:${limit}`]);
  return limit;
}
