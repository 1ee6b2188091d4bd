/**
 * Memory headroom and its fever zone (toc's MemoryFever, with memctl's headroom reading): how much
 * memory the process may still use before it meets its limit, from the cgroup (v2 or v1) when one
 * sets a limit, else from MemAvailable in /proc/meminfo, else from `os.freemem()` off Linux.
 */
import { existsSync, readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { checkThresholds, DEFAULT_RED_AT, DEFAULT_YELLOW_AT } from './zones.js';

/** Memory's zone on the fever chart; `unknown` when there is no limit to measure against. */
export type MemoryFeverZone = 'unknown' | 'green' | 'yellow' | 'red';

/**
 * Classifies `headroomBytes` against `limitBytes`. Penetration is `1 − headroom / limit`
 * (clamped at 0 when the headroom exceeds the limit): `red` at or above `redAt`, `yellow` at or
 * above `yellowAt`, else `green`. `unknown` when the limit is 0 or not a number. Throws a
 * `InvalidOptionError` unless 0 <= yellowAt <= redAt <= 1.
 *
 * @example
 * ```ts
 * memoryFever(80, 100); // 'green' (penetration 0.2)
 * memoryFever(67, 100); // 'yellow' (exactly 0.33)
 * memoryFever(30, 100); // 'red'
 * ```
 */
export function memoryFever(
  headroomBytes: number,
  limitBytes: number,
  yellowAt = DEFAULT_YELLOW_AT,
  redAt = DEFAULT_RED_AT,
): MemoryFeverZone {
  checkThresholds(yellowAt, redAt);
  if (!(limitBytes > 0)) return 'unknown';
  // Rounded at the 12th digit so a boundary on paper (1 − 67/100 = 0.33) is one in floats too.
  const penetration = Math.max(0, Number((1 - headroomBytes / limitBytes).toPrecision(12)));
  if (penetration >= redAt) return 'red';
  if (penetration >= yellowAt) return 'yellow';
  return 'green';
}

/** Where a memory figure was read. */
export type MemorySource = 'cgroup2' | 'cgroup1' | 'meminfo' | 'os';

/** The binding memory limit of this process and how much of it is left. */
export interface MemoryInfo {
  /** The limit the headroom is measured against, in bytes. */
  limitBytes: number;
  /** limitBytes − headroomBytes. */
  usedBytes: number;
  /** Bytes the process may still use. */
  headroomBytes: number;
  /** Where the binding figure was read. */
  source: MemorySource;
  /** The cgroup directory the limit came from, for cgroup sources. */
  cgroupPath?: string;
}

/** Where `readMemoryInfo` reads (tests point it at a fake tree). */
export interface ReadMemoryOptions {
  /**
   * The file system root to read `proc/self/cgroup`, `proc/meminfo` and `sys/fs/cgroup` under
   * Tests point it at a fake tree; off `/`, the `os` fallback is not used.
   * @default '/'
   */
  root?: string;
}

/**
 * Reads the process's memory headroom. Every candidate is measured and the one with the least
 * headroom wins: the tightest cgroup limit on the path from the process's cgroup up to the
 * hierarchy's root (v2 `memory.max` − `memory.current`; v1 `memory.limit_in_bytes` −
 * `memory.usage_in_bytes`, where a v1 "unlimited" value is ignored), and the host's MemAvailable
 * against MemTotal (a cgroup limit above the host's free memory does not help). Off Linux it
 * falls back to `os.freemem()` / `os.totalmem()`. Returns undefined only when nothing is readable.
 */
export function readMemoryInfo(options: ReadMemoryOptions = {}): MemoryInfo | undefined {
  const root = options.root ?? '/';
  const candidates: MemoryInfo[] = [];
  const cgroups = parseCgroupFile(readText(join(root, 'proc/self/cgroup')));
  if (cgroups.v2 !== undefined) {
    for (const mount of ['sys/fs/cgroup', 'sys/fs/cgroup/unified']) {
      const found = walkLimits(join(root, mount), cgroups.v2, 'memory.max', 'memory.current');
      if (found) {
        candidates.push({ ...found, source: 'cgroup2' });
        break;
      }
    }
  }
  if (cgroups.v1Memory !== undefined) {
    const found = walkLimits(
      join(root, 'sys/fs/cgroup/memory'),
      cgroups.v1Memory,
      'memory.limit_in_bytes',
      'memory.usage_in_bytes',
    );
    if (found) candidates.push({ ...found, source: 'cgroup1' });
  }
  const meminfo = readText(join(root, 'proc/meminfo'));
  const total = meminfo ? kb(meminfo, 'MemTotal') : undefined;
  const available = meminfo ? kb(meminfo, 'MemAvailable') : undefined;
  if (total !== undefined && available !== undefined) {
    candidates.push({
      limitBytes: total,
      headroomBytes: available,
      usedBytes: total - available,
      source: 'meminfo',
    });
  } else if (root === '/' && candidates.length === 0) {
    const t = totalmem();
    const f = freemem();
    candidates.push({ limitBytes: t, headroomBytes: f, usedBytes: t - f, source: 'os' });
  }
  // A v1 "unlimited" cgroup reads as a huge number; any limit above the host's memory is no limit.
  const hostLimit = total ?? Number.POSITIVE_INFINITY;
  const real = candidates.filter((c) => c.source === 'meminfo' || c.limitBytes <= hostLimit);
  if (real.length === 0) return undefined;
  return real.reduce((a, b) => (b.headroomBytes < a.headroomBytes ? b : a));
}

/** `memoryFever` of what `readMemoryInfo` reads now, with the reading. */
export function currentMemoryFever(
  options: ReadMemoryOptions & { yellowAt?: number; redAt?: number } = {},
): {
  /** The zone (`unknown` without a reading). */
  zone: MemoryFeverZone;
  /** The reading it came from. */
  info: MemoryInfo | undefined;
} {
  const info = readMemoryInfo(options);
  if (!info) return { zone: 'unknown', info };
  return {
    zone: memoryFever(info.headroomBytes, info.limitBytes, options.yellowAt, options.redAt),
    info,
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function kb(meminfo: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB$`, 'm').exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** The process's v2 cgroup path ("0::/x") and its v1 memory cgroup path ("N:memory:/x"). */
function parseCgroupFile(text: string | undefined): { v2?: string; v1Memory?: string } {
  const out: { v2?: string; v1Memory?: string } = {};
  for (const line of (text ?? '').split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (id === '0' && controllers === '') out.v2 = path;
    else if (controllers.split(',').includes('memory')) out.v1Memory = path;
  }
  return out;
}

/**
 * Walks from the process's cgroup directory up to the mount root and returns the level with the
 * least headroom among those that set a numeric limit. When the process's own directory is not
 * visible (a cgroup namespace shows "/" or a path from outside), the walk starts at the mount root.
 */
function walkLimits(
  mount: string,
  cgroupPath: string,
  limitFile: string,
  usageFile: string,
): Omit<MemoryInfo, 'source'> | undefined {
  let dir = join(mount, cgroupPath);
  if (relative(mount, dir).startsWith('..') || !existsSync(dir)) dir = mount;
  let best: Omit<MemoryInfo, 'source'> | undefined;
  for (;;) {
    const limitText = readText(join(dir, limitFile))?.trim();
    const usageText = readText(join(dir, usageFile))?.trim();
    if (limitText && usageText && limitText !== 'max') {
      const limit = Number(limitText);
      const used = Number(usageText);
      if (Number.isFinite(limit) && Number.isFinite(used) && limit > 0) {
        const headroom = Math.max(0, limit - used);
        if (!best || headroom < best.headroomBytes) {
          best = { limitBytes: limit, usedBytes: used, headroomBytes: headroom, cgroupPath: dir };
        }
      }
    }
    if (dir === mount || relative(mount, dir) === '') break;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return best;
}
