import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FlowStateError,
  InvalidOptionError,
  ManualTicker,
  Reporter,
  type ReporterOptions,
  type Stats,
} from '../../../../src/flow/index.js';
import { FakeClock, FakeTty, MemoryLogger, mkStats } from '../fakes.js';

const MiB = 1024 * 1024;

function rig(extra: Partial<ReporterOptions> = {}) {
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const ticker = new ManualTicker();
  let parse = mkStats({ activeWorkers: 4, targetWorkers: 4, queueCapacity: 200, maxWIP: 204 });
  let transform = mkStats({ activeWorkers: 1, targetWorkers: 1, maxWIP: 1 });
  const reporter = new Reporter({
    intervalMs: 1000,
    logger,
    ticker,
    now: clock.now,
    process: () => ({ rssBytes: 1.5 * MiB, heapUsedBytes: 512 * 1024, loopUtilization: 0.25 }),
    live: false,
    ...extra,
  });
  reporter.addStage('parse', () => parse).addStage('transform', { stats: () => transform });
  const set = (p: Partial<Stats>, t: Partial<Stats>) => {
    parse = { ...parse, ...p };
    transform = { ...transform, ...t };
  };
  return { clock, logger, ticker, reporter, set };
}

describe('Reporter lines', () => {
  it('logs one line and a structured record per interval', async () => {
    const r = rig();
    const ac = new AbortController();
    const done = r.reporter.run(ac.signal);
    r.clock.advance(1000);
    r.set(
      { submitted: 10, completed: 8, serviceTimeMs: 1234, idleTimeMs: 200, bufferedDepth: 0 },
      {
        submitted: 8,
        completed: 5,
        failed: 2,
        serviceTimeMs: 40,
        idleTimeMs: 0.04,
        bufferedDepth: 3,
        paused: true,
      },
    );
    await r.ticker.tick();
    assert.equal(r.logger.records.length, 1);
    const { obj, msg } = r.logger.records[0]!;
    assert.equal(
      msg,
      '[flow] mem: rss=1.5MiB heap=512.0KiB loop=25% | parse: sub=10 comp=8 svc=1.2s idle=200ms' +
        ' | transform: sub=8 comp=5 fail=2 svc=40ms idle=40µs depth=3 PAUSED',
    );
    const rec = obj as {
      rssBytes: number;
      stages: Array<Record<string, unknown>>;
      elapsedMs: number;
    };
    assert.equal(rec.rssBytes, 1.5 * MiB);
    assert.equal(rec.elapsedMs, 1000);
    assert.deepEqual(rec.stages[1], {
      stage: 'transform',
      submitted: 8,
      completed: 5,
      failed: 2,
      serviceTimeMs: 40,
      idleTimeMs: 0.04,
      depth: 3,
      paused: true,
      throughput: 5,
      utilization: 0.04,
    });
    assert.equal((rec.stages[0] as { utilization: number }).utilization, 1234 / 4000);

    r.clock.advance(500);
    r.set({ completed: 18 }, {});
    await r.ticker.tick();
    const second = r.logger.records[1]!.obj as { stages: Array<{ throughput: number }> };
    assert.equal(second.stages[0]!.throughput, 20); // 10 items in half a second
    ac.abort();
    await done;
    assert.equal(r.logger.records.length, 3); // a final report when the run ends
  });

  it('shows memory headroom and its fever zone when the sample has it', () => {
    const tty = new FakeTty(160);
    const rep = new Reporter({
      intervalMs: 10,
      logger: new MemoryLogger(),
      live: tty,
      now: () => 0,
      process: () => ({
        rssBytes: MiB,
        memory: { headroomBytes: 256 * MiB, limitBytes: 1024 * MiB, zone: 'red' },
      }),
    });
    const report = rep.report();
    assert.equal(report.line, '[flow] mem: rss=1.0MiB free=256.0MiB(red)');
    assert.deepEqual(report.memory, {
      headroomBytes: 256 * MiB,
      limitBytes: 1024 * MiB,
      zone: 'red',
    });
    assert.match(tty.lines()[0]!, /^flow {2}0µs {2}rss 1\.0MiB {2}free 256\.0MiB \(red\)$/);
  });

  it('reads this process by default', () => {
    const rep = new Reporter({ intervalMs: 10, logger: new MemoryLogger(), live: false });
    const report = rep.report();
    assert.ok(report.rssBytes > 0);
    assert.ok(report.heapUsedBytes! > 0);
    assert.ok(report.loopUtilization! >= 0 && report.loopUtilization! <= 1);
    assert.ok(report.memory && report.memory.zone !== 'unknown');
  });

  it('reports a stats accessor that throws and goes on', () => {
    const logger = new MemoryLogger();
    const rep = new Reporter({
      intervalMs: 10,
      logger,
      live: false,
      process: () => ({ rssBytes: 2048 }),
    });
    rep.addStage('bad', () => {
      throw new Error('boom');
    });
    rep.addStage('good', () => mkStats({ submitted: 1 }));
    const report = rep.report();
    assert.equal(
      report.line,
      '[flow] mem: rss=2.0KiB | bad: stats error boom | good: sub=1 comp=0 svc=0µs idle=0µs',
    );
  });

  it('rejects misuse with typed errors', async () => {
    assert.throws(() => new Reporter({ intervalMs: 0 }), InvalidOptionError);
    assert.throws(
      () => new Reporter({ intervalMs: 10, live: {} as unknown as boolean }),
      (e: unknown) => e instanceof InvalidOptionError && e.option === 'live',
    );
    const r = rig();
    assert.throws(() => r.reporter.addStage('parse', () => mkStats()), /added twice/);
    assert.throws(() => r.reporter.addStage('', () => mkStats()), InvalidOptionError);
    assert.throws(
      () => r.reporter.addStage('x', null as unknown as () => Stats),
      InvalidOptionError,
    );
    const ac = new AbortController();
    const done = r.reporter.run(ac.signal);
    assert.throws(() => r.reporter.addStage('late', () => mkStats()), FlowStateError);
    await assert.rejects(r.reporter.run(ac.signal), FlowStateError);
    ac.abort();
    await done;
  });
});

describe('Reporter live view', () => {
  it('redraws in place on a TTY, one row per stage, the drum marked', async () => {
    const tty = new FakeTty(120);
    const r = rig({ live: tty, drum: () => 'transform' });
    assert.equal(r.reporter.live, true);
    const ac = new AbortController();
    const done = r.reporter.run(ac.signal);
    for (let i = 1; i <= 3; i++) {
      r.clock.advance(1000);
      r.set(
        { completed: 100 * i, serviceTimeMs: 400 * i, bufferedDepth: 150, admitted: 154 },
        { completed: 50 * i, serviceTimeMs: 990 * i, admitted: 1 },
      );
      await r.ticker.tick();
    }
    assert.equal(tty.chunks.length, 3);
    assert.ok(!tty.chunks[0]!.includes('\x1b[4A'));
    assert.ok(tty.chunks[1]!.startsWith('\x1b[4A\r'));
    const screen = tty.lines();
    assert.equal(screen.length, 4, screen.join('\n')); // header, column titles, two stages
    assert.match(screen[0]!, /^flow {2}3\.0s {2}rss 1\.5MiB {2}heap 512\.0KiB {2}loop 25%$/);
    const [parseRow, transformRow] = [screen[2]!, screen[3]!];
    assert.match(parseRow, /^ {2}parse +100\.0 +10% #\.{9} +150\/200 +red +4 +154\/204 +300$/);
    assert.match(transformRow, /^\* transform +50\.0 +99% #{10} +0 +green +1 +1\/1 +150 drum$/);
    // The logger was given too, so lines were logged as well.
    assert.equal(r.logger.records.length, 3);
    ac.abort();
    await done;
  });

  it('shows at most 100% utilization in the view', () => {
    const tty = new FakeTty(160);
    const r = rig({ live: tty });
    r.reporter.report();
    r.clock.advance(100);
    r.set({}, { completed: 1, serviceTimeMs: 250 }); // a 250 ms call credited to a 100 ms interval
    const report = r.reporter.report();
    assert.equal(report.stages[1]!.utilization, 2.5);
    assert.match(tty.lines()[3]!, / 100% #{10} /);
  });

  it('cuts lines to the terminal width so a frame never wraps', () => {
    const tty = new FakeTty(30);
    const r = rig({ live: tty });
    r.reporter.report();
    r.reporter.report();
    assert.ok(tty.lines().every((l) => l.length <= 29));
    assert.equal(tty.lines().length, 4);
  });

  it('draws nothing on a stream that is not a TTY', () => {
    const written: string[] = [];
    const rep = new Reporter({
      intervalMs: 10,
      live: { isTTY: false, write: (s: string) => written.push(s) },
      logger: new MemoryLogger(),
    });
    assert.equal(rep.live, false);
    rep.report();
    assert.deepEqual(written, []);
  });

  it('colours the zone only where the terminal has colours', () => {
    const tty = Object.assign(new FakeTty(160), { hasColors: () => true });
    const r = rig({ live: tty });
    r.set({ bufferedDepth: 190 }, {});
    r.reporter.report();
    assert.ok(tty.chunks[0]!.includes('\x1b[31mred'));
  });
});
