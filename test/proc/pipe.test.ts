import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  createPipe,
  createPipes,
  fdTarget,
  openFds,
  PipeCreateError,
  pipeBackend,
  pipeBufferSize,
} from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

function fdFlags(fd: number): number {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return Number.parseInt(/^flags:\s+(\d+)$/m.exec(info)![1]!, 8);
}

/**
 * The pipe fds open now. A test compares these before and after, not counts: another thread of
 * this process (libuv's pool finishing an earlier test's close) may close an fd meanwhile.
 */
function openPipes(): Set<string> {
  return new Set(
    openFds()
      .filter((f) => f.target.startsWith('pipe:'))
      .map((f) => `${f.fd} ${f.target}`),
  );
}

/** Pipe fds open now that were not open at `before`: what the code under test left open. */
function pipesLeftSince(before: Set<string>): string[] {
  return [...openPipes()].filter((p) => !before.has(p));
}

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

describe('proc: pipes', () => {
  test('uses pipe2 on Linux', () => {
    assert.equal(pipeBackend(), 'pipe2');
  });

  test(
    'a pair is a real anonymous pipe, blocking and close-on-exec in the parent',
    withLeakCheck(() => {
      using pair = createPipe();
      for (const fd of [pair.readFd, pair.writeFd]) {
        assert.match(fdTarget(fd) ?? '', /^pipe:\[\d+\]$/);
        const flags = fdFlags(fd);
        assert.equal(flags & O_NONBLOCK, 0, 'blocking');
        assert.equal(flags & O_CLOEXEC, O_CLOEXEC, 'close-on-exec');
      }
      assert.equal(fdTarget(pair.readFd), fdTarget(pair.writeFd), 'both ends of one pipe');
    }),
  );

  test(
    'yes writing into it dies of SIGPIPE within 1 s of the reader exiting, silently',
    withLeakCheck(async () => {
      const pair = createPipe();
      const yes = spawn('yes', [], { stdio: ['ignore', pair.writeFd, 'pipe'] });
      const head = spawn('head', ['-c', '1'], { stdio: [pair.readFd, 'ignore', 'ignore'] });
      pair.close();
      let stderr = '';
      yes.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      const headExit = new Promise<number>((r) => head.on('exit', () => r(performance.now())));
      const yesExit = new Promise<{ at: number; code: number | null; signal: string | null }>((r) =>
        yes.on('close', (code, signal) => r({ at: performance.now(), code, signal })),
      );
      const [headAt, y] = await Promise.all([headExit, yesExit]);
      assert.equal(y.signal, 'SIGPIPE');
      assert.equal(y.code, null);
      assert.ok(y.at - headAt < 1000, `yes took ${y.at - headAt} ms to die`);
      assert.equal(stderr, '');
    }),
  );

  test(
    'a child can reopen /dev/stdin on the read end',
    withLeakCheck(async () => {
      const pair = createPipe();
      const cat = spawn('sh', ['-c', 'cat /dev/stdin'], {
        stdio: [pair.readFd, 'pipe', 'inherit'],
      });
      const echo = spawn('printf', ['hello'], { stdio: ['ignore', pair.writeFd, 'inherit'] });
      pair.close();
      let out = '';
      cat.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      await Promise.all([
        new Promise((r) => cat.on('close', r)),
        new Promise((r) => echo.on('close', r)),
      ]);
      assert.equal(out, 'hello');
    }),
  );

  test('10,000 pairs created and closed leave the fd count where it started', () => {
    const before = openPipes();
    for (let i = 0; i < 100; i++) {
      for (const p of createPipes(100)) {
        assert.ok(p.readFd > 2 && p.writeFd > 2);
        p.close();
      }
    }
    assert.deepEqual(pipesLeftSince(before), []);
  });

  test('close is idempotent per side', () => {
    const before = openPipes();
    const p = createPipe();
    p.closeRead();
    assert.equal(p.readFd, -1);
    p.closeRead();
    p.close();
    p.close();
    assert.equal(p.writeFd, -1);
    assert.deepEqual(pipesLeftSince(before), []);
  });

  test('the buffer can be enlarged to 1 MiB', () => {
    using p = createPipe({ size: 1 << 20 });
    assert.equal(pipeBufferSize(p.writeFd), 1 << 20);
  });

  test('a bad count is a typed error and creates nothing', () => {
    const before = openPipes();
    assert.throws(() => createPipes(-1), PipeCreateError);
    assert.throws(() => createPipes(1.5), PipeCreateError);
    assert.deepEqual(createPipes(0), []);
    assert.deepEqual(pipesLeftSince(before), []);
  });
});
