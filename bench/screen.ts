/**
 * What a PTY session's screen model costs (docs/screens.md):
 *
 * 1. CPU per MB of output fed to the model (`@xterm/headless` parsing): TUI-like frames (cursor
 *    moves, colours, short runs of text, as htop or vim redraw) and a `yes` flood (`y\n` lines
 *    that scroll through the 10,000-line scrollback). Peer: a plain copy of the same bytes into a
 *    1 MiB ring, which is all a session without a screen does with them.
 * 2. Snapshot of a 200×60 screen with 10,000 lines of scrollback: its size, and the time to take
 *    it (the part of an attach the screen adds; target: attach under 20 ms).
 * 3. Daemon RSS with 100 idle PTY sessions (a shell each), screens on and off (target: under
 *    twice the RSS without screens).
 *
 * `npx tsx bench/screen.ts` (or `npm run bench -- screen`). Env: SLUICE_BENCH_SCREEN_MB (16),
 * SLUICE_BENCH_SCREEN_RSS=0 skips the RSS section.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScreenModel } from '../src/sessions/index.js';
import { fmt, median, section, table } from './lib.js';

const MB = Number(process.env.SLUICE_BENCH_SCREEN_MB ?? 16);
const RUNS = 3;

/** One htop-like frame: home, then every row drawn with colours and cursor moves. */
function tuiFrame(rows: number, cols: number, n: number): Buffer {
  let s = '\x1b[H';
  for (let y = 0; y < rows; y++) {
    s += `\x1b[${y + 1};1H\x1b[1;32m${String(n + y).padStart(6)}\x1b[0m \x1b[34m`;
    s += `${'proc'.padEnd(12)}\x1b[0m ${'#'.repeat((n + y) % 40)}\x1b[K`;
    s += ' '.repeat(Math.max(0, cols - 60 - ((n + y) % 40)));
  }
  return Buffer.from(s);
}

/** CPU ms spent feeding `chunks` (repeated to `bytes`) to a fresh model, fully parsed. */
async function feedCpu(make: (i: number) => Buffer, bytes: number): Promise<number> {
  const model = new ScreenModel({ rows: 60, cols: 200, highWaterMarkBytes: 64 * 1024 * 1024 });
  const start = process.cpuUsage();
  let fed = 0;
  for (let i = 0; fed < bytes; i++) {
    const chunk = make(i);
    if (!model.write(chunk)) await new Promise<void>((r) => model.once('drain', r));
    fed += chunk.length;
  }
  await model.state();
  const used = process.cpuUsage(start);
  model.dispose();
  return (used.user + used.system) / 1000;
}

/** The same bytes copied into a ring (what the session does with them anyway). */
function ringCpu(make: (i: number) => Buffer, bytes: number): number {
  const ring = Buffer.alloc(1024 * 1024);
  let at = 0;
  const start = process.cpuUsage();
  let fed = 0;
  for (let i = 0; fed < bytes; i++) {
    const chunk = make(i);
    for (let o = 0; o < chunk.length; ) {
      const n = Math.min(chunk.length - o, ring.length - at);
      chunk.copy(ring, at, o, o + n);
      o += n;
      at = (at + n) % ring.length;
    }
    fed += chunk.length;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function cpuSection(): Promise<void> {
  const bytes = MB * 1024 * 1024;
  const frames = Array.from({ length: 64 }, (_, i) => tuiFrame(60, 200, i));
  const yes = Buffer.from('y\n'.repeat(32 * 1024));
  const kinds: [string, (i: number) => Buffer][] = [
    ['TUI frames (htop-like, 200×60)', (i) => frames[i % frames.length]!],
    ['`yes` flood (y\\n, scrolling)', () => yes],
  ];
  const rows: (string | number)[][] = [];
  for (const [name, make] of kinds) {
    const model: number[] = [];
    const ring: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      model.push(await feedCpu(make, bytes));
      ring.push(ringCpu(make, bytes));
    }
    const perMb = median(model) / MB;
    rows.push([
      name,
      `${fmt(perMb)} ms`,
      `${fmt(1000 / perMb)} MB/s`,
      `${fmt(median(ring) / MB, '')} ms`,
      `${fmt(median(model) / Math.max(median(ring), 0.001))}×`,
    ]);
  }
  section(
    'Screen model: CPU per MB of output',
    'npx tsx bench/screen.ts',
    table(['output', 'model CPU/MB', 'model rate', 'ring copy CPU/MB', 'ratio'], rows),
  );
}

async function snapshotSection(): Promise<void> {
  const model = new ScreenModel({ rows: 60, cols: 200 });
  let text = '';
  for (let i = 0; i < 10_100; i++) {
    text += `\x1b[3${i % 8}m${String(i).padStart(6)}\x1b[0m ${'lorem ipsum dolor sit amet '.repeat(7)}\r\n`;
    if (text.length > 256 * 1024) {
      model.write(Buffer.from(text));
      text = '';
    }
  }
  model.write(Buffer.from(text));
  await model.state();
  const times: number[] = [];
  const cpu: number[] = [];
  let size = 0;
  let lines = 0;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const snap = await model.snapshot();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    times.push(performance.now() - t0);
    size = snap.data.length;
    lines = snap.scrollbackLines;
  }
  const small: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    await model.snapshot({ rows: 30, cols: 100 });
    small.push(performance.now() - t0);
  }
  model.dispose();
  section(
    'Screen snapshot: 200×60 with 10,000 lines of scrollback',
    'npx tsx bench/screen.ts',
    table(
      ['what', 'figure'],
      [
        ['scrollback lines in the snapshot', lines],
        ['snapshot size', `${fmt(size / 1024 / 1024)} MiB`],
        ['time to take it (median of 7)', `${fmt(median(times))} ms`],
        ['CPU to take it (median of 7)', `${fmt(median(cpu))} ms`],
        ['slowest of 7', `${fmt(Math.max(...times))} ms`],
        ['reflowed for a 100×30 viewer (median of 5)', `${fmt(median(small))} ms`],
      ],
    ),
  );
}

const DAEMON_SCRIPT = (screens: boolean, socket: string) => `
import { SessionDaemon, SessionRegistry } from ${JSON.stringify(new URL('../src/sessions/index.ts', import.meta.url).pathname)};
const daemon = await SessionDaemon.start({
  socketPath: ${JSON.stringify(socket)},
  registry: new SessionRegistry({ screens: ${screens} }),
  log: null,
});
process.once('SIGTERM', () => daemon.shutdown('SIGTERM').then(() => process.exit(0)));
`;

/** A daemon in its own process, with screens on or off (the registry option). */
async function startDaemon(
  screens: boolean,
): Promise<{ child: ChildProcess; socket: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-screen-'));
  const socket = join(dir, 'd.sock');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', DAEMON_SCRIPT(screens, socket)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const { SessionsClient } = await import('../src/sessions/index.js');
  for (let i = 0; i < 300; i++) {
    try {
      const c = await SessionsClient.connect({ socketPath: socket });
      await c.close();
      return { child, socket, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error('the daemon did not start');
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function rssWith(screens: boolean): Promise<{ idle: number; loaded: number }> {
  const { SessionsClient } = await import('../src/sessions/index.js');
  const d = await startDaemon(screens);
  try {
    const client = await SessionsClient.connect({ socketPath: d.socket });
    try {
      const idle = rssMiB(d.child.pid!);
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        // A shell that draws a screenful, then waits: what an idle terminal session looks like.
        const s = await client.spawn({
          argv: [
            'sh',
            '-c',
            'i=0; while [ $i -lt 200 ]; do echo "line $i of some output"; i=$((i+1)); done; exec sleep 600',
          ],
          pty: { rows: 50, cols: 160 },
        });
        ids.push(s.id);
      }
      await new Promise((r) => setTimeout(r, 2000));
      const loaded = rssMiB(d.child.pid!);
      for (const id of ids) await client.remove(id, { force: true }).catch(() => {});
      return { idle, loaded };
    } finally {
      await client.close();
    }
  } finally {
    d.child.kill('SIGTERM');
    await new Promise((r) => d.child.once('exit', r));
    rmSync(d.dir, { recursive: true, force: true });
  }
}

/** From `attach()` to the whole drawing received, through a daemon, 200×60 + 10,000 lines. */
async function attachSection(): Promise<void> {
  const { SessionsClient } = await import('../src/sessions/index.js');
  const d = await startDaemon(true);
  try {
    const client = await SessionsClient.connect({ socketPath: d.socket });
    try {
      const s = await client.spawn({
        argv: [
          'sh',
          '-c',
          'i=0; while [ $i -lt 10100 ]; do printf "\\033[3%dm%6d\\033[0m %s\\n" $((i % 8)) $i "$(printf "lorem ipsum dolor sit amet %.0s" 1 2 3 4 5 6 7)"; i=$((i+1)); done; exec sleep 600',
        ],
        pty: { rows: 60, cols: 200 },
      });
      for (;;) {
        const info = await client.get(s.id);
        if ((info.attachments.stdout?.bytes ?? 0) > 10_000 * 190) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const times: number[] = [];
      let bytes = 0;
      for (let r = 0; r < 7; r++) {
        const t0 = performance.now();
        const a = await client.attach(s.id, { size: { rows: 60, cols: 200 } });
        times.push(performance.now() - t0);
        bytes = a.screen.length;
        await a.detach();
      }
      const raw: number[] = [];
      for (let r = 0; r < 7; r++) {
        const t0 = performance.now();
        const a = await client.attach(s.id, { raw: true });
        raw.push(performance.now() - t0);
        await a.detach();
      }
      await client.remove(s.id, { force: true });
      section(
        'Attach through the daemon: 200×60 with 10,000 lines of scrollback',
        'npx tsx bench/screen.ts',
        table(
          ['attach', 'median of 7', 'slowest', 'bytes drawn'],
          [
            [
              'screen drawing (default)',
              `${fmt(median(times))} ms`,
              `${fmt(Math.max(...times))} ms`,
              `${fmt(bytes / 1024 / 1024)} MiB`,
            ],
            [
              'raw ring replay (`raw: true`, peer)',
              `${fmt(median(raw))} ms`,
              `${fmt(Math.max(...raw))} ms`,
              '1 MiB ring',
            ],
          ],
        ),
      );
    } finally {
      await client.close();
    }
  } finally {
    d.child.kill('SIGTERM');
    await new Promise((r) => d.child.once('exit', r));
    rmSync(d.dir, { recursive: true, force: true });
  }
}

async function rssSection(): Promise<void> {
  const off = await rssWith(false);
  const on = await rssWith(true);
  section(
    'Daemon RSS with 100 PTY sessions (160×50, 200 lines printed each)',
    'npx tsx bench/screen.ts',
    table(
      ['daemon', 'RSS before', 'RSS with 100 sessions', 'growth'],
      [
        [
          'screens off (`new SessionRegistry({ screens: false })`)',
          `${fmt(off.idle)} MiB`,
          `${fmt(off.loaded)} MiB`,
          `${fmt(off.loaded - off.idle)} MiB`,
        ],
        [
          'screens on (default)',
          `${fmt(on.idle)} MiB`,
          `${fmt(on.loaded)} MiB`,
          `${fmt(on.loaded - on.idle)} MiB`,
        ],
        ['ratio on/off', '', `${fmt(on.loaded / off.loaded)}×`, ''],
      ],
    ),
  );
}

await cpuSection();
await snapshotSection();
await attachSection();
if (process.env.SLUICE_BENCH_SCREEN_RSS !== '0') await rssSection();
