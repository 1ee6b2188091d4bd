/**
 * What a PTY session's screen model costs (docs/screens.md):
 *
 * 1. CPU per MB of output fed to the model (`@xterm/headless` parsing): TUI-like frames (cursor
 *    moves, colours, short runs of text, as htop or vim redraw) and a `yes` flood (`y\n` lines
 *    that scroll through the 10,000-line scrollback). Peer: a plain copy of the same bytes into a
 *    1 MiB ring, which is all a session without a screen does with them.
 * 2. Snapshot of a 200×60 screen with 10,000 lines of scrollback: its size, and the time to take
 *    it with every row serialized (what an attach costs while the output has not paused) and
 *    with the rows kept (after a pause, or a snapshot).
 * 2b. Attach through a daemon in its own process, until the client has received the whole
 *    drawing (target: under 20 ms), beside a raw ring replay.
 * 3. Daemon RSS with 100 idle PTY sessions (a shell each), screens on and off (target: under
 *    twice the RSS without screens).
 *
 * `npx tsx bench/screen.ts` (or `npm run bench -- screen`). Env: SLUICE_BENCH_SCREEN_MB (16),
 * SLUICE_BENCH_SCREEN_CPU=0 skips the CPU section, SLUICE_BENCH_SCREEN_RSS=0 the RSS section.
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

/** 10,100 coloured lines of 200 columns: 10,000 lines of scrollback under a 200×60 screen. */
function scrollbackText(): Buffer[] {
  const chunks: Buffer[] = [];
  let text = '';
  for (let i = 0; i < 10_100; i++) {
    text += `\x1b[3${i % 8}m${String(i).padStart(6)}\x1b[0m ${'lorem ipsum dolor sit amet '.repeat(7)}\r\n`;
    if (text.length > 256 * 1024) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  chunks.push(Buffer.from(text));
  return chunks;
}

/** CPU ms of `fn`. */
async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function snapshotSection(): Promise<void> {
  const text = scrollbackText();
  // A first snapshot serializes every scrollback row; later ones reuse the kept rows. Each first
  // snapshot is taken on a model of its own (fed the same output), after three on spare models
  // so the JIT has compiled the code, as in a daemon that has attached before.
  const fed = async () => {
    const m = new ScreenModel({ rows: 60, cols: 200 });
    for (const chunk of text) m.write(chunk);
    await m.state();
    return m;
  };
  for (let r = 0; r < 3; r++) {
    const spare = await fed();
    await spare.snapshot();
    spare.dispose();
  }
  const first: number[] = [];
  const firstCpu: number[] = [];
  for (let r = 0; r < 5; r++) {
    const m = await fed();
    // A moment for the collector to finish with the previous model (its CPU would be counted),
    // well before the model serializes its rows on its own (half a second after the output).
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (m.keptScrollbackBytes !== 0) throw new Error('the rows were serialized before timing');
    const t0 = performance.now();
    firstCpu.push(await cpuMs(() => m.snapshot()));
    first.push(performance.now() - t0);
    m.dispose();
  }
  const model = await fed();
  const times: number[] = [];
  const cpu: number[] = [];
  let size = 0;
  let lines = 0;
  let parts = 0;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    let snap: Awaited<ReturnType<ScreenModel['snapshot']>> | undefined;
    cpu.push(
      await cpuMs(async () => {
        snap = await model.snapshot();
      }),
    );
    times.push(performance.now() - t0);
    size = snap!.bytes;
    lines = snap!.scrollbackLines;
    parts = snap!.parts.length;
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
        ['snapshot size', `${fmt(size / 1024 / 1024)} MiB in ${parts} pieces`],
        [
          'first snapshot, every row serialized (median of 5, after 3 warm-ups)',
          `${fmt(median(first))} ms`,
        ],
        ['CPU of a first snapshot (same runs)', `${fmt(median(firstCpu))} ms`],
        ['again, kept rows reused (median of 7)', `${fmt(median(times))} ms`],
        ['CPU again (median of 7)', `${fmt(median(cpu))} ms`],
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

/** A program that prints 10,100 coloured 200-column lines, says so, then waits. */
const SCROLLBACK_PROGRAM = [
  'sh',
  '-c',
  `awk 'BEGIN { for (i = 0; i < 10100; i++) printf "\\033[3%dm%6d\\033[0m %s\\n", i % 8, i, "${'lorem ipsum dolor sit amet '.repeat(7).trimEnd()}" }'; echo printed-all; exec sleep 600`,
];

/**
 * From `client.attach()` to its promise resolving, which is when the client has received the
 * whole drawing (the attach answer, then every byte of the snapshot): new connection, the
 * daemon's snapshot, the transfer. Through a daemon in its own process, 200×60 + 10,000 lines.
 */
async function attachSection(): Promise<void> {
  const { SessionsClient } = await import('../src/sessions/index.js');
  const d = await startDaemon(true);
  try {
    const client = await SessionsClient.connect({ socketPath: d.socket });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await client.spawn({ argv: SCROLLBACK_PROGRAM, pty: { rows: 60, cols: 200 } });
        ids.push(s.id);
      }
      // Every line printed and parsed by the screen (text waits for the parser) before timing.
      for (const id of ids) {
        for (let tries = 0; ; tries++) {
          const { data } = await client.snapshot(id, { text: true });
          if (data.includes('printed-all')) break;
          if (tries > 600) throw new Error('the program did not print its lines');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      // Paused output: the screens serialize their rows half a second after their output stops.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const attachOnce = async (id: string, raw = false) => {
        const t0 = performance.now();
        const a = raw
          ? await client.attach(id, { raw: true })
          : await client.attach(id, { size: { rows: 60, cols: 200 } });
        const ms = performance.now() - t0;
        const bytes = a.screen.length + a.backlog.length;
        await a.detach();
        return { ms, bytes };
      };
      // One session attached three times beforehand, so the daemon's code is warm; then each other
      // session's first attach (its rows were serialized when its output paused), then
      // re-attaches (kept rows reused).
      for (let r = 0; r < 3; r++) await attachOnce(ids[0]!);
      const first: number[] = [];
      for (const id of ids.slice(1)) first.push((await attachOnce(id)).ms);
      const again: number[] = [];
      let bytes = 0;
      for (let r = 0; r < 9; r++) {
        const { ms, bytes: b } = await attachOnce(ids[r % ids.length]!);
        again.push(ms);
        bytes = b;
      }
      const raw: number[] = [];
      let rawBytes = 0;
      for (let r = 0; r < 9; r++) {
        const { ms, bytes: b } = await attachOnce(ids[r % ids.length]!, true);
        raw.push(ms);
        rawBytes = b;
      }
      for (const id of ids) await client.remove(id, { force: true });
      const load = (await import('node:os')).loadavg()[0]!;
      section(
        'Attach through the daemon: 200×60 with 10,000 lines of scrollback',
        'npx tsx bench/screen.ts',
        `Time from \`client.attach()\` until the client has received the whole drawing (new connection, snapshot, transfer); load average ${fmt(load)} during the run.\n\n${table(
          ['attach', 'median', 'slowest', 'bytes received'],
          [
            [
              're-attach: screen drawing, kept rows reused (9 runs)',
              `${fmt(median(again))} ms`,
              `${fmt(Math.max(...again))} ms`,
              `${fmt(bytes / 1024 / 1024)} MiB`,
            ],
            [
              "a session's first attach, its output paused (4 sessions)",
              `${fmt(median(first))} ms`,
              `${fmt(Math.max(...first))} ms`,
              `${fmt(bytes / 1024 / 1024)} MiB`,
            ],
            [
              'raw ring replay (`raw: true`, peer; 9 runs)',
              `${fmt(median(raw))} ms`,
              `${fmt(Math.max(...raw))} ms`,
              `${fmt(rawBytes / 1024 / 1024)} MiB`,
            ],
          ],
        )}`,
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

if (process.env.SLUICE_BENCH_SCREEN_CPU !== '0') await cpuSection();
await snapshotSection();
await attachSection();
if (process.env.SLUICE_BENCH_SCREEN_RSS !== '0') await rssSection();
