/**
 * The few libc calls Node does not expose (pipe2, fcntl; on Linux prctl and waitpid), through koffi: an FFI whose prebuilt
 * binaries ship inside its npm packages, so no compiler is needed on the user's machine.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The libc calls sluice needs and Node lacks. */
export interface Native {
  pipe(fds: number[]): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  errno(): number;
  /** `prctl(PR_SET_CHILD_SUBREAPER, on)` (Linux only). */
  setChildSubreaper?(on: boolean): number;
  /** `prctl(PR_GET_CHILD_SUBREAPER, &out)`: 1, 0, or -1 on error (Linux only). */
  getChildSubreaper?(): number;
  /** `waitpid(pid, &status, options)`; the status is written to `status[0]` (Linux only). */
  waitpid?(pid: number, status: number[], options: number): number;
}

const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;

const O_CLOEXEC_LINUX = 0o2000000;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const F_SETPIPE_SZ = 1031;
export const F_GETPIPE_SZ = 1032;

/** The part of koffi's API sluice uses. */
interface Koffi {
  version: string;
  load(path: string): { func(signature: string): (...args: unknown[]) => number };
  errno(): number;
  out(type: unknown): unknown;
  pointer(type: string): unknown;
}

/** The musl loader's name per Node arch, where koffi ships both a glibc and a musl binary. */
const MUSL_LOADER: Partial<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * The real folder of package `name` as seen from `from`: the first `node_modules/NAME` with a
 * package.json in `from` or a folder above it (where Node's resolution finds an installed
 * package; the real path, so that pnpm's links lead to the package's own neighbours). A few
 * stat calls, where `require.resolve` costs ~2 ms at start-up. Undefined when not found: the
 * caller then lets `require('koffi')` decide.
 */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * koffi's prebuilt binary for this platform, loaded directly: `require('koffi')` costs about
 * three times as much (it parses node's ELF header to choose between glibc and musl, then wraps
 * the binary with deprecated aliases sluice does not use), and sluice's command pays it on every
 * `sluice run`. Taken only where the choice is certain (darwin, or Linux with no musl loader
 * installed, on x64 or arm64) and only when the binary has koffi's own version and the calls used
 * here; undefined otherwise, and the caller falls back to `require('koffi')`.
 */
function loadPrebuiltKoffi(require: NodeJS.Require): Koffi | undefined {
  const { platform, arch } = process;
  const musl = MUSL_LOADER[arch];
  if (musl === undefined) return undefined;
  if (platform === 'linux') {
    if (existsSync(`/lib/ld-musl-${musl}.so.1`)) return undefined;
  } else if (platform !== 'darwin') {
    return undefined;
  }
  try {
    const koffiDir = packageDir('koffi', dirname(fileURLToPath(import.meta.url)));
    if (koffiDir === undefined) return undefined;
    const { version } = JSON.parse(readFileSync(`${koffiDir}/package.json`, 'utf8')) as {
      version?: unknown;
    };
    const binaryDir = packageDir(`@koromix/koffi-${platform}-${arch}`, koffiDir);
    if (binaryDir === undefined) return undefined;
    const binary = `${binaryDir}/${platform}_${arch}/koffi.node`;
    const k = require(binary) as Partial<Koffi>;
    const complete =
      k.version === version &&
      typeof k.load === 'function' &&
      typeof k.errno === 'function' &&
      typeof k.out === 'function' &&
      typeof k.pointer === 'function';
    return complete ? (k as Koffi) : undefined;
  } catch (e) {
    // Out of fds: koffi's own loader would fail the same way; let the caller see why.
    if (/EMFILE|ENFILE/.test(`${(e as NodeJS.ErrnoException)?.code ?? ''} ${String(e)}`)) throw e;
    return undefined;
  }
}

let native: Native | null | undefined;
let transient: string | undefined;

/**
 * Why the last `loadNative()` returned null when that reason may pass (`'EMFILE'`, `'ENFILE'`:
 * no fd was free to load koffi); undefined when koffi loaded or is missing for good.
 */
export function nativeLoadTransientError(): string | undefined {
  return native === undefined ? transient : undefined;
}

/**
 * libc's `pipe`/`pipe2`, `fcntl` and errno through koffi, loaded once; null where koffi cannot
 * load (or with SLUICE_PIPE_BACKEND=fifo), and callers then fall back or do without.
 */
export function loadNative(): Native | null {
  if (native !== undefined) return native;
  native = null;
  transient = undefined;
  if (process.env.SLUICE_PIPE_BACKEND === 'fifo') return native;
  try {
    const require = createRequire(import.meta.url);
    const koffi = loadPrebuiltKoffi(require) ?? (require('koffi') as Koffi);
    if (process.platform === 'linux') {
      const libc = koffi.load('libc.so.6');
      const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
      const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
      // prctl is variadic: koffi passes each argument with the type named before it.
      const prctl = libc.func('int prctl(int option, ...)');
      const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
      const ul = 'unsigned long';
      const outInt = koffi.out(koffi.pointer('int'));
      native = {
        pipe: (fds) => pipe2(fds, O_CLOEXEC_LINUX),
        fcntl: (fd, cmd, arg) => fcntl(fd, cmd, arg),
        errno: () => koffi.errno(),
        setChildSubreaper: (on) =>
          prctl(PR_SET_CHILD_SUBREAPER, ul, on ? 1 : 0, ul, 0, ul, 0, ul, 0),
        getChildSubreaper: () => {
          const out = [0];
          const rc = prctl(PR_GET_CHILD_SUBREAPER, outInt, out, ul, 0, ul, 0, ul, 0);
          return rc === 0 ? out[0]! : -1;
        },
        waitpid: (pid, status, options) => waitpid(pid, status, options),
      };
    } else if (process.platform === 'darwin') {
      const libc = koffi.load('libSystem.B.dylib');
      const pipe = libc.func('int pipe(_Out_ int *fds)');
      const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
      native = {
        // macOS has no pipe2; nothing else runs between these calls on our thread.
        pipe: (fds) => {
          const rc = pipe(fds);
          if (rc === 0) {
            fcntl(fds[0], F_SETFD, FD_CLOEXEC);
            fcntl(fds[1], F_SETFD, FD_CLOEXEC);
          }
          return rc;
        },
        fcntl: (fd, cmd, arg) => fcntl(fd, cmd, arg),
        errno: () => koffi.errno(),
      };
    }
  } catch (e) {
    native = null;
    // Out of fds, loading fails now but may work later: try again next time instead of falling
    // back to FIFOs (which need a helper process) for the rest of this process's life.
    const text = `${(e as NodeJS.ErrnoException)?.code ?? ''} ${String(e)}`;
    const m = /EMFILE|ENFILE/.exec(text);
    if (m) {
      native = undefined;
      transient = m[0];
    }
  }
  return native ?? null;
}
