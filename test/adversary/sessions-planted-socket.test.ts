/**
 * Another user on the machine tries to catch what sluice sends: a socket planted where the client
 * looks for its daemon, a socket swapped into the user's own folder, a world-writable folder, a
 * connection to the daemon from another uid, files and symlinks planted where the spool writes.
 * Every attempt is refused before anything is sent or written, with a typed error saying why.
 *
 * Acting as another user needs root (setpriv to `nobody`); those tests are skipped, saying so,
 * when the suite does not run as root.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Spooler } from '../../src/sessions/daemon/spool.js';
import {
  DaemonAccessError,
  InvalidOptionError,
  SessionDaemon,
  SessionRegistry,
  SessionsClient,
} from '../../src/sessions/index.js';
import { encodeFrame, FrameDecoder } from '../../src/sessions/wire/frames.js';
import { PROTOCOL_VERSION } from '../../src/sessions/wire/protocol.js';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const canSetpriv =
  isRoot &&
  spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;
const asOtherUser = canSetpriv
  ? false
  : 'needs root and setpriv to act as another user (uid 65534); run the suite as root';

/** Runs `node -e script ...args` as uid 65534; its stdout lines are collected. */
function runAsNobody(script: string, args: string[]): { child: ChildProcess; lines: string[] } {
  const child = spawn(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      process.execPath,
      '-e',
      script,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/' },
  );
  const lines: string[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    buf += t;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return { child, lines };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }
  });
}

/** A listener that reports, per connection, how many bytes it was sent. */
const LISTENER = `
const net = require('node:net');
net.createServer((s) => {
  let n = 0;
  s.on('data', (d) => { n += d.length; });
  s.on('error', () => {});
  s.on('close', () => console.log('CONN ' + n));
}).listen(process.argv[1], () => console.log('READY'));
`;

/** Connects, sends the hex bytes given, prints what came back as hex when the daemon closes. */
const INTRUDER = `
const net = require('node:net');
const s = net.connect(process.argv[1]);
const got = [];
s.on('connect', () => s.write(Buffer.from(process.argv[2], 'hex')));
s.on('data', (d) => got.push(d));
s.on('error', (e) => console.log('ERROR ' + e.code));
s.on('close', () => console.log('GOT ' + Buffer.concat(got).toString('hex')));
`;

describe('another user plants sockets and files', () => {
  test(
    'the client refuses a planted or swapped socket and a world-writable folder, sending nothing',
    { skip: asOtherUser },
    withLeakCheck(async () => {
      // The other user's folder is in /tmp itself: the suite's private TMPDIR is closed to it.
      const plant = mkdtempSync('/tmp/sluice-adv-plant-');
      const ours = mkdtempSync(join(tmpdir(), 'sluice-adv-ours-'));
      const open = mkdtempSync(join(tmpdir(), 'sluice-adv-open-'));
      chownSync(plant, NOBODY, NOBODY);
      const listener = runAsNobody(LISTENER, [join(plant, 'd.sock')]);
      try {
        await waitFor(() => listener.lines.includes('READY'), { message: 'the planted listener' });

        // 1. The path points into the other user's folder, at the other user's socket.
        await assert.rejects(
          SessionsClient.connect({ socketPath: join(plant, 'd.sock') }),
          (e: unknown) => e instanceof DaemonAccessError && /belongs to uid 65534/.test(e.message),
        );

        // 2. The socket was moved into our own folder: still the other user's file.
        const swapped = join(ours, 'd.sock');
        renameSync(join(plant, 'd.sock'), swapped);
        await assert.rejects(
          SessionsClient.connect({ socketPath: swapped }),
          (e: unknown) =>
            e instanceof DaemonAccessError && /d\.sock belongs to uid 65534/.test(e.message),
        );

        // 3. The file is made ours, but the process answering is still the other user's: the
        //    kernel's peer credentials give it away, and nothing is sent.
        chownSync(swapped, 0, 0);
        chmodSync(swapped, 0o600);
        await assert.rejects(
          SessionsClient.connect({ socketPath: swapped }),
          (e: unknown) => e instanceof DaemonAccessError && /runs as uid 65534/.test(e.message),
        );
        await waitFor(() => listener.lines.includes('CONN 0'), {
          message: 'the refused connection',
        });

        // 4. A folder others can write to, even our own: anyone could swap the socket in it.
        chmodSync(open, 0o777);
        renameSync(swapped, join(open, 'd.sock'));
        await assert.rejects(
          SessionsClient.connect({ socketPath: join(open, 'd.sock') }),
          (e: unknown) => e instanceof DaemonAccessError && /other users can write/.test(e.message),
        );

        // Only the one connection of case 3 reached the listener, and it carried no byte: a
        // probe of 5 bytes arrives right after it.
        await new Promise<void>((resolve, reject) => {
          const probe = connect(join(open, 'd.sock'));
          probe.once('connect', () => probe.end('probe', () => resolve()));
          probe.once('error', reject);
        });
        await waitFor(() => listener.lines.includes('CONN 5'), { message: 'the probe' });
        assert.deepEqual(listener.lines, ['READY', 'CONN 0', 'CONN 5']);
      } finally {
        await stop(listener.child);
        for (const d of [plant, ours, open]) rmSync(d, { recursive: true, force: true });
      }
    }),
  );

  test(
    'the daemon refuses a client of another uid before reading a request',
    { skip: asOtherUser },
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-adv-daemon-'));
      const socketPath = join(dir, 'd.sock');
      const log: string[] = [];
      try {
        await using daemon = await SessionDaemon.start({ socketPath, log: (l) => log.push(l) });
        // Open the way for the other user, as a careless administrator might.
        chmodSync(tmpdir(), 0o711);
        chmodSync(dir, 0o711);
        chmodSync(socketPath, 0o666);
        const hello = encodeFrame({ id: 1, op: 'hello', version: PROTOCOL_VERSION });
        const spawnReq = encodeFrame({ id: 2, op: 'spawn', argv: ['touch', join(dir, 'pwned')] });
        const intruder = runAsNobody(INTRUDER, [
          socketPath,
          Buffer.concat([hello, spawnReq]).toString('hex'),
        ]);
        try {
          await waitFor(() => intruder.lines.some((l) => l.startsWith('GOT ')), {
            message: 'the intruder to be answered and closed',
          });
        } finally {
          await stop(intruder.child);
        }
        assert.ok(!intruder.lines.some((l) => l.startsWith('ERROR')), intruder.lines.join('\n'));
        const got = Buffer.from(intruder.lines.find((l) => l.startsWith('GOT '))!.slice(4), 'hex');
        const frames = new FrameDecoder().push(got) as {
          id: number;
          ok: boolean;
          error?: { code: string };
        }[];
        assert.equal(frames.length, 1, 'one answer, then the end');
        assert.equal(frames[0]!.ok, false);
        assert.equal(frames[0]!.error?.code, 'access');
        assert.equal(daemon.registry.size, 0, 'nothing was spawned');
        assert.equal(existsSync(join(dir, 'pwned')), false);
        assert.ok(log.some((l) => /refused a connection from pid \d+, uid 65534/.test(l)));
      } finally {
        chmodSync(tmpdir(), 0o700);
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    "the spool refuses another user's or a world-writable folder",
    { skip: asOtherUser },
    withLeakCheck(async () => {
      const theirs = mkdtempSync(join(tmpdir(), 'sluice-adv-spool-theirs-'));
      const open = mkdtempSync(join(tmpdir(), 'sluice-adv-spool-open-'));
      const sock = mkdtempSync(join(tmpdir(), 'sluice-adv-spool-sock-'));
      try {
        chownSync(theirs, NOBODY, NOBODY);
        chmodSync(open, 0o777);
        assert.throws(
          () => Spooler.prepare(theirs),
          (e: unknown) => e instanceof InvalidOptionError && /belongs to uid 65534/.test(e.message),
        );
        assert.throws(
          () => Spooler.prepare(open),
          (e: unknown) =>
            e instanceof InvalidOptionError && /other users can write/.test(e.message),
        );
        await assert.rejects(
          SessionDaemon.start({ socketPath: join(sock, 'd.sock'), logDir: open, log: null }),
          InvalidOptionError,
        );
        assert.equal(existsSync(join(sock, 'd.sock')), false, 'no daemon was left behind');
      } finally {
        for (const d of [theirs, open, sock]) rmSync(d, { recursive: true, force: true });
      }
    }),
  );
});

describe('planted spool files', () => {
  test(
    'a symlink or file planted under a session’s spool name is never followed or appended to',
    withLeakCheck(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-adv-spool-'));
      const victims = mkdtempSync(join(tmpdir(), 'sluice-adv-victims-'));
      const log: string[] = [];
      try {
        const spooler = new Spooler({ dir }, (l) => log.push(l));
        await using reg = new SessionRegistry();
        const s = await reg.spawn({ argv: ['sh', '-c', 'read x; echo "$x"; echo "$x" >&2'] });
        const victim = join(victims, 'victim');
        writeFileSync(victim, 'victim\n', { mode: 0o600 });
        symlinkSync(victim, spooler.pathFor(s.id, 'stdout'));
        writeFileSync(spooler.pathFor(s.id, 'stderr'), '', { mode: 0o666 });
        chmodSync(spooler.pathFor(s.id, 'stderr'), 0o666);
        spooler.track(s);
        await s.writeStdin('secret\n');
        await s.exited;
        assert.equal(readFileSync(victim, 'utf8'), 'victim\n', 'the symlink was not followed');
        assert.equal(readFileSync(spooler.pathFor(s.id, 'stderr'), 'utf8'), '', 'not appended');
        assert.equal(log.filter((l) => /EEXIST/.test(l)).length, 2, log.join('\n'));
        // The session itself was not disturbed.
        assert.equal(s.snapshot('stdout').data.toString(), 'secret\n');
        assert.equal(s.exitInfo?.exitCode, 0);
        await spooler.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(victims, { recursive: true, force: true });
      }
    }),
  );

  test(
    'new spool files are created 0600 in a folder created 0700',
    withLeakCheck(async () => {
      const parent = mkdtempSync(join(tmpdir(), 'sluice-adv-spool-new-'));
      try {
        const dir = join(parent, 'logs');
        const spooler = new Spooler({ dir });
        assert.equal(statSync(dir).mode & 0o777, 0o700);
        await using reg = new SessionRegistry();
        const s = await reg.spawn({ argv: ['echo', 'hi'] });
        spooler.track(s);
        await s.exited;
        await spooler.close();
        assert.equal(readFileSync(spooler.pathFor(s.id, 'stdout'), 'utf8'), 'hi\n');
        assert.equal(statSync(spooler.pathFor(s.id, 'stdout')).mode & 0o777, 0o600);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    }),
  );
});
