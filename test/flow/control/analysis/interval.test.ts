import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  bufferCapacity,
  bufferZone,
  currentMemoryFever,
  delta,
  IntervalSampler,
  InvalidOptionError,
  memoryFever,
  observeInterval,
  readMemoryInfo,
  Topology,
} from '../../../../src/flow/index.js';
import { FakeClock, mkStats } from '../fakes.js';

const prev = mkStats({
  submitted: 10,
  completed: 8,
  failed: 1,
  serviceTimeMs: 400,
  idleTimeMs: 100,
  outputBlockedTimeMs: 50,
  bufferedDepth: 2,
  activeWorkers: 2,
  targetWorkers: 2,
  queueCapacity: 10,
});
const curr = mkStats({
  submitted: 30,
  completed: 28,
  failed: 3,
  canceled: 1,
  serviceTimeMs: 1400,
  idleTimeMs: 300,
  outputBlockedTimeMs: 150,
  bufferedDepth: 6,
  activeWorkers: 2,
  targetWorkers: 2,
  queueCapacity: 10,
  admitted: 8,
  maxWIP: 12,
});

describe('delta', () => {
  it('computes a one-second interval by hand', () => {
    const iv = delta(prev, curr, 1000);
    assert.equal(iv.resetDetected, false);
    assert.equal(iv.itemsSubmitted, 20);
    assert.equal(iv.itemsCompleted, 20);
    assert.equal(iv.itemsFailed, 2);
    assert.equal(iv.itemsCanceled, 1);
    assert.equal(iv.throughput, 20);
    assert.equal(iv.goodput, 18);
    assert.equal(iv.arrivalRate, 20);
    assert.equal(iv.errorRate, 0.1);
    assert.equal(iv.meanServiceTimeMs, 50); // 1000 ms of service over 20 items
    assert.equal(iv.approxUtilization, 0.5); // 1000 ms of 2 workers × 1000 ms
    assert.equal(iv.avgWorkers, 2);
    assert.equal(iv.serviceTimeDeltaMs, 1000);
    assert.equal(iv.idleTimeDeltaMs, 200);
    assert.equal(iv.outputBlockedDeltaMs, 100);
    assert.equal(iv.currBufferedDepth, 6);
    assert.equal(iv.currBufferPenetration, 0.6);
    assert.equal(iv.queueGrowthRate, 4);
    assert.equal(iv.currAdmitted, 8);
    assert.equal(iv.currMaxWIP, 12);
  });

  it('scales rates with the interval', () => {
    const iv = delta(prev, curr, 500);
    assert.equal(iv.throughput, 40);
    assert.equal(iv.goodput, 36);
    assert.equal(iv.approxUtilization, 1);
    assert.equal(iv.queueGrowthRate, 8);
  });

  it('gives counts but no rates for an empty interval', () => {
    for (const ms of [0, -5]) {
      const iv = delta(prev, curr, ms);
      assert.equal(iv.itemsCompleted, 20);
      assert.equal(iv.throughput, 0);
      assert.equal(iv.goodput, 0);
      assert.equal(iv.approxUtilization, 0);
      assert.equal(iv.queueGrowthRate, 0);
      assert.equal(iv.errorRate, 0.1); // a ratio of counts, not a rate
    }
  });

  it('averages the workers of both snapshots', () => {
    const iv = delta({ ...prev, activeWorkers: 1 }, { ...curr, activeWorkers: 3 }, 1000);
    assert.equal(iv.avgWorkers, 2);
    assert.equal(iv.approxUtilization, 0.5);
    assert.equal(delta(mkStats(), mkStats({ serviceTimeMs: 5 }), 1000).approxUtilization, 0);
  });

  it('measures from zero after a counter reset', () => {
    // The stage behind the name was replaced: its counters restarted below the old ones.
    const restarted = mkStats({
      submitted: 7,
      completed: 5,
      failed: 1,
      serviceTimeMs: 50,
      bufferedDepth: 2,
      activeWorkers: 1,
    });
    const iv = delta(curr, restarted, 1000);
    assert.equal(iv.resetDetected, true);
    assert.equal(iv.itemsSubmitted, 7);
    assert.equal(iv.itemsCompleted, 5);
    assert.equal(iv.itemsFailed, 1);
    assert.equal(iv.serviceTimeDeltaMs, 50);
    assert.equal(iv.goodput, 4);
    assert.equal(iv.avgWorkers, 1);
    assert.equal(iv.approxUtilization, 0.05);
    assert.equal(iv.queueGrowthRate, 2);
    // One counter going down is enough, and deltas never go negative.
    const onlyIdle = delta(curr, { ...curr, idleTimeMs: 10 }, 1000);
    assert.equal(onlyIdle.resetDetected, true);
    assert.equal(onlyIdle.itemsCompleted, 28);
    assert.equal(onlyIdle.idleTimeDeltaMs, 10);
  });

  it('clamps penetration and failures', () => {
    assert.equal(delta(prev, { ...curr, bufferedDepth: 15 }, 1000).currBufferPenetration, 1);
    assert.equal(delta(prev, { ...curr, bufferedDepth: -1 }, 1000).currBufferPenetration, 0);
    assert.equal(delta(prev, { ...curr, queueCapacity: 0 }, 1000).currBufferPenetration, 0);
    const skew = delta(prev, { ...curr, failed: 40 }, 1000);
    assert.equal(skew.itemsFailed, 20);
    assert.equal(skew.goodput, 0);
    assert.equal(skew.errorRate, 1);
  });
});

describe('IntervalSampler', () => {
  it('sets a baseline first, then reports intervals on an injected clock', () => {
    const clock = new FakeClock();
    let s = mkStats({ activeWorkers: 1 });
    const sampler = new IntervalSampler({ a: () => s }, { now: clock.now });
    assert.equal(sampler.primed, false);
    assert.equal(sampler.get('a').durationMs, 0);
    sampler.sample();
    assert.equal(sampler.primed, true);
    assert.equal(sampler.get('a').throughput, 0);
    s = { ...s, completed: 30, serviceTimeMs: 150 };
    clock.advance(250);
    sampler.sample();
    assert.equal(sampler.snapshot('a').durationMs, 250);
    assert.equal(sampler.snapshot('a').throughput, 120);
    assert.equal(sampler.snapshot('a').approxUtilization, 0.6);
    assert.equal(sampler.stats('a')?.completed, 30);
    assert.deepEqual(sampler.names, ['a']);
  });
});

describe('IntervalSampler over a topology', () => {
  it('samples every stage in one turn and feeds observeInterval', () => {
    const clock = new FakeClock();
    const a = { s: mkStats({ activeWorkers: 2 }) };
    const b = { s: mkStats({ activeWorkers: 1 }) };
    const t = new Topology()
      .addStage('a', () => a.s)
      .addStage('b', { stats: () => b.s })
      .addEdge('a', 'b')
      .freeze();
    const sampler = new IntervalSampler(t, { now: clock.now });
    assert.deepEqual(sampler.names, ['a', 'b']);
    sampler.sample();
    clock.advance(1000);
    a.s = { ...a.s, completed: 40, serviceTimeMs: 1500, idleTimeMs: 500, submitted: 40 };
    b.s = { ...b.s, completed: 40, serviceTimeMs: 900, bufferedDepth: 4 };
    const ivs = sampler.sample();
    assert.deepEqual([...ivs.keys()], ['a', 'b']);
    assert.deepEqual(observeInterval('a', ivs.get('a')!), {
      stage: 'a',
      busyWork: 1500,
      capacityWork: 2000,
      idleWork: 500,
      blockedWork: 0,
      arrivals: 40,
      completions: 40,
      failures: 0,
      queueDepth: 0,
      workers: 2,
    });
    assert.equal(ivs.get('b')!.approxUtilization, 0.9);
    assert.equal(ivs.get('b')!.queueGrowthRate, 4);
  });
});

describe('bufferZone', () => {
  it('puts each boundary in the hotter zone', () => {
    assert.equal(bufferZone(0), 'green');
    assert.equal(bufferZone(0.329), 'green');
    assert.equal(bufferZone(0.33), 'yellow');
    assert.equal(bufferZone(0.659), 'yellow');
    assert.equal(bufferZone(0.66), 'red');
    assert.equal(bufferZone(1), 'red');
    assert.equal(bufferZone(delta(prev, curr, 1000)), 'yellow'); // 6 of 10
    assert.equal(bufferZone(0.5, 0.5, 0.9), 'yellow');
    assert.equal(bufferZone(0.49, 0.5, 0.9), 'green');
    assert.equal(bufferZone(0.9, 0.5, 0.9), 'red');
  });

  it('rejects thresholds out of order or range', () => {
    assert.throws(() => bufferZone(0.5, 0.7, 0.6), InvalidOptionError);
    assert.throws(() => bufferZone(0.5, 0.3, 1.5), /redAt: must be a number in \[0, 1\]/);
    assert.throws(() => bufferZone(0.5, Number.NaN, 0.6), InvalidOptionError);
  });
});

describe('bufferCapacity', () => {
  it("is Goldratt's ceil(throughput × protection time)", () => {
    assert.equal(bufferCapacity(50, 35), 2); // 1.75 items
    assert.equal(bufferCapacity(50, 20), 1); // exactly 1
    assert.equal(25 * (280 / 1000), 7.000000000000001);
    assert.equal(bufferCapacity(25, 280), 7); // 7 on paper: not 8 from float noise
    assert.equal(bufferCapacity(3, 1000 / 3), 1);
    assert.equal(bufferCapacity(10.5, 1000), 11);
    assert.equal(bufferCapacity(200, 100), 20);
  });

  it('is 0 without throughput or protection time', () => {
    assert.equal(bufferCapacity(0, 100), 0);
    assert.equal(bufferCapacity(50, 0), 0);
    assert.equal(bufferCapacity(-1, 100), 0);
    assert.equal(bufferCapacity(Number.NaN, 100), 0);
  });
});

describe('memoryFever', () => {
  it('classifies headroom against the limit', () => {
    assert.equal(memoryFever(80, 100), 'green'); // penetration 0.2
    assert.equal(memoryFever(68, 100), 'green');
    // Exactly 0.33 on paper: yellow. In floats 1 − 67/100 is 0.32999999999999996, which toc
    // (comparing the raw float) calls green; sluice rounds at the 12th digit first.
    assert.equal(1 - 67 / 100 < 0.33, true);
    assert.equal(memoryFever(67, 100), 'yellow');
    assert.equal(memoryFever(67_000_000_000, 100_000_000_000), 'yellow');
    assert.equal(memoryFever(35, 100), 'yellow');
    assert.equal(memoryFever(34, 100), 'red'); // exactly 0.66
    assert.equal(memoryFever(0, 100), 'red');
    assert.equal(memoryFever(150, 100), 'green'); // more headroom than limit: clamped
    assert.equal(memoryFever(50, 0), 'unknown');
    assert.equal(memoryFever(50, Number.NaN), 'unknown');
    assert.equal(memoryFever(50, 100, 0.6, 0.8), 'green');
    assert.throws(() => memoryFever(50, 100, 0.9, 0.1), InvalidOptionError);
  });
});

describe('readMemoryInfo', () => {
  const roots: string[] = [];
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  const GiB = 1024 ** 3;
  const MiB = 1024 ** 2;

  function fakeRoot(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'sluice-memtest-'));
    roots.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }
  const meminfo = (totalKb: number, availKb: number) =>
    `MemTotal:       ${totalKb} kB\nMemFree:        1 kB\nMemAvailable:   ${availKb} kB\n`;

  it('reads a cgroup v2 limit', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '0::/app\n',
      'proc/meminfo': meminfo(8 * 1024 * 1024, 6 * 1024 * 1024),
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
      'sys/fs/cgroup/app/memory.max': `${GiB}\n`,
      'sys/fs/cgroup/app/memory.current': `${256 * MiB}\n`,
    });
    assert.deepEqual(readMemoryInfo({ root }), {
      limitBytes: GiB,
      usedBytes: 256 * MiB,
      headroomBytes: 768 * MiB,
      source: 'cgroup2',
      cgroupPath: join(root, 'sys/fs/cgroup/app'),
    });
    const { zone } = currentMemoryFever({ root });
    assert.equal(zone, 'green');
  });

  it('takes the tightest limit up the v2 hierarchy ("max" is no limit)', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '0::/a/b\n',
      'proc/meminfo': meminfo(8 * 1024 * 1024, 6 * 1024 * 1024),
      'sys/fs/cgroup/a/memory.max': `${512 * MiB}\n`,
      'sys/fs/cgroup/a/memory.current': `${100 * MiB}\n`,
      'sys/fs/cgroup/a/b/memory.max': 'max\n',
      'sys/fs/cgroup/a/b/memory.current': `${50 * MiB}\n`,
    });
    const info = readMemoryInfo({ root });
    assert.equal(info?.source, 'cgroup2');
    assert.equal(info?.limitBytes, 512 * MiB);
    assert.equal(info?.headroomBytes, 412 * MiB);
  });

  it('uses the mount root when the cgroup path is not visible (a namespace)', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '0::/../elsewhere\n',
      'sys/fs/cgroup/memory.max': `${GiB}\n`,
      'sys/fs/cgroup/memory.current': `${GiB - 10 * MiB}\n`,
    });
    const info = readMemoryInfo({ root });
    assert.equal(info?.headroomBytes, 10 * MiB);
    assert.equal(memoryFever(info!.headroomBytes, info!.limitBytes), 'red');
  });

  it('reads a cgroup v1 limit, ignoring the v1 "unlimited" value', () => {
    const limited = fakeRoot({
      'proc/self/cgroup': '4:memory:/grp\n1:cpu:/\n0::/\n',
      'proc/meminfo': meminfo(8 * 1024 * 1024, 6 * 1024 * 1024),
      'sys/fs/cgroup/memory/grp/memory.limit_in_bytes': `${2 * GiB}\n`,
      'sys/fs/cgroup/memory/grp/memory.usage_in_bytes': `${1.5 * GiB}\n`,
    });
    const info = readMemoryInfo({ root: limited });
    assert.equal(info?.source, 'cgroup1');
    assert.equal(info?.headroomBytes, 0.5 * GiB);
    assert.equal(memoryFever(info!.headroomBytes, info!.limitBytes), 'red');

    const unlimited = fakeRoot({
      'proc/self/cgroup': '4:memory:/grp\n',
      'proc/meminfo': meminfo(8 * 1024 * 1024, 6 * 1024 * 1024),
      'sys/fs/cgroup/memory/grp/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/grp/memory.usage_in_bytes': `${GiB}\n`,
    });
    assert.equal(readMemoryInfo({ root: unlimited })?.source, 'meminfo');
    assert.equal(readMemoryInfo({ root: unlimited })?.headroomBytes, 6 * GiB);
  });

  it('lets the host win when it has less free memory than the cgroup allows', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '0::/app\n',
      'proc/meminfo': meminfo(4 * 1024 * 1024, 1024 * 1024),
      'sys/fs/cgroup/app/memory.max': `${3 * GiB}\n`,
      'sys/fs/cgroup/app/memory.current': `${GiB}\n`,
    });
    const info = readMemoryInfo({ root });
    assert.equal(info?.source, 'meminfo');
    assert.equal(info?.headroomBytes, GiB);
    assert.equal(info?.limitBytes, 4 * GiB);
  });

  it('returns undefined when nothing is readable', () => {
    assert.equal(readMemoryInfo({ root: fakeRoot({}) }), undefined);
    assert.deepEqual(currentMemoryFever({ root: fakeRoot({}) }), {
      zone: 'unknown',
      info: undefined,
    });
  });

  it('reads this machine', () => {
    const info = readMemoryInfo();
    assert.ok(info, 'some memory figure is readable here');
    assert.ok(info.limitBytes > 0);
    assert.ok(info.headroomBytes >= 0 && info.headroomBytes <= info.limitBytes);
    assert.equal(info.usedBytes, info.limitBytes - info.headroomBytes);
  });
});
