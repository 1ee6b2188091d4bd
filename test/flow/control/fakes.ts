/** Hand-made stats, stages and terminals for the control-half tests. Deterministic: no timers. */
import type { Stats } from '../../../src/flow/index.js';
import { zeroStats } from '../../../src/flow/stats.js';

/** A Stats value: zeros, with `partial` on top. */
export function mkStats(partial: Partial<Stats> = {}): Stats {
  return { ...zeroStats(), ...partial };
}

/** What a fake stage does during one window. */
export interface WindowWork {
  /** Fraction of the window its workers spent in fn / waiting for input / blocked on output. */
  busy?: number;
  idle?: number;
  blocked?: number;
  completed?: number;
  failed?: number;
  submitted?: number;
  depth?: number;
  admitted?: number;
}

/**
 * A stage-like object whose counters a test advances by hand. It records every setMaxWIP and
 * setWorkers call and clamps to [1, 1000] (a flow stage clamps to [1, capacity + workers]).
 */
export class FakeStage {
  readonly name: string;
  s: Stats;
  readonly maxWIPCalls: number[] = [];
  readonly workerCalls: number[] = [];

  constructor(name: string, workers = 1, capacity = 0) {
    this.name = name;
    this.s = mkStats({
      targetWorkers: workers,
      activeWorkers: workers,
      queueCapacity: capacity,
      maxWIP: capacity + workers,
    });
  }

  stats(): Stats {
    return { ...this.s };
  }

  setMaxWIP(n: number): number {
    const applied = Math.max(1, Math.min(n, 1000));
    this.s.maxWIP = applied;
    this.maxWIPCalls.push(applied);
    return applied;
  }

  setWorkers(n: number): number {
    this.s.targetWorkers = n;
    this.s.activeWorkers = n;
    this.workerCalls.push(n);
    return n;
  }

  /** Adds one window of `ms` milliseconds of the given work to the cumulative counters. */
  advance(ms: number, w: WindowWork): void {
    const slot = ms * this.s.activeWorkers;
    this.s.serviceTimeMs += (w.busy ?? 0) * slot;
    this.s.idleTimeMs += (w.idle ?? 0) * slot;
    this.s.outputBlockedTimeMs += (w.blocked ?? 0) * slot;
    this.s.completed += w.completed ?? 0;
    this.s.failed += w.failed ?? 0;
    this.s.submitted += w.submitted ?? w.completed ?? 0;
    if (w.depth !== undefined) this.s.bufferedDepth = w.depth;
    if (w.admitted !== undefined) this.s.admitted = w.admitted;
  }
}

/** A clock a test moves by hand. */
export class FakeClock {
  t = 0;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Collects a logger's records. */
export class MemoryLogger {
  readonly records: Array<{ level: string; obj: object; msg: string | undefined }> = [];
  info = (obj: object, msg?: string): void => {
    this.records.push({ level: 'info', obj, msg });
  };
  warn = (obj: object, msg?: string): void => {
    this.records.push({ level: 'warn', obj, msg });
  };
  error = (obj: object, msg?: string): void => {
    this.records.push({ level: 'error', obj, msg });
  };
  messages(level?: string): string[] {
    return this.records.filter((r) => !level || r.level === level).map((r) => r.msg ?? '');
  }
}

/**
 * A fake TTY that also plays the written bytes onto a screen, understanding what the live view
 * writes: CSI n A (up), CSI 2K (clear line), CSI J (clear below), CR, LF and SGR colours.
 */
export class FakeTty {
  readonly isTTY = true;
  readonly columns: number;
  readonly chunks: string[] = [];
  screen: string[] = [''];
  row = 0;
  col = 0;

  constructor(columns = 160) {
    this.columns = columns;
  }

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === '\x1b' && chunk[i + 1] === '[') {
        let j = i + 2;
        while (j < chunk.length && /[0-9;]/.test(chunk[j]!)) j++;
        const arg = chunk.slice(i + 2, j);
        const cmd = chunk[j];
        if (cmd === 'A') this.row = Math.max(0, this.row - Number(arg || 1));
        else if (cmd === 'K') this.screen[this.row] = '';
        else if (cmd === 'J') {
          this.screen[this.row] = (this.screen[this.row] ?? '').slice(0, this.col);
          this.screen.length = this.row + 1;
        }
        i = j;
        continue;
      }
      if (c === '\r') this.col = 0;
      else if (c === '\n') {
        this.row++;
        this.col = 0;
        if (this.screen.length <= this.row) this.screen.push('');
      } else {
        const line = (this.screen[this.row] ?? '').padEnd(this.col);
        this.screen[this.row] = line.slice(0, this.col) + c + line.slice(this.col + 1);
        this.col++;
      }
    }
    return true;
  }

  /** The screen's non-empty lines. */
  lines(): string[] {
    return this.screen.filter((l) => l !== '');
  }
}
