/**
 * Pipe-type negotiation for every neighbour combination (go-pipe's TestPipeTypes), asserting
 * what each stage was given: nothing, an fd (and which kind: a kernel pipe or the caller's own
 * file), or a stream. Also: the last command writes straight into a caller's file fd.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import {
  command,
  type InputStream,
  type OutputStream,
  type PipelineOptions,
  pipeline,
  type Stage,
  type StreamPreference,
} from '../../src/pipe/index.js';
import { planEdges } from '../../src/pipe/pipeline/negotiate.js';
import { fdTarget } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

/** What a side was given: 'none', 'stream', 'pipe' (a kernel pipe fd) or 'file' (another fd). */
type Seen = 'none' | 'stream' | 'pipe' | 'file';

function classify(end: InputStream | OutputStream): Seen {
  if (end.kind === 'none') return 'none';
  if (end.kind === 'stream') return 'stream';
  return /^pipe:/.test(fdTarget(end.fd) ?? '') ? 'pipe' : 'file';
}

class Sniffer implements Stage {
  readonly name = 'sniffer';
  readonly preferences: { stdin: StreamPreference; stdout: StreamPreference };
  seen: [Seen, Seen] | undefined;
  constructor(stdin: StreamPreference, stdout: StreamPreference) {
    this.preferences = { stdin, stdout };
  }
  start(_ctx: unknown, stdin: InputStream, stdout: OutputStream): void {
    this.seen = [classify(stdin), classify(stdout)];
    stdin.close();
    stdout.close();
  }
  wait(): Promise<void> {
    return Promise.resolve();
  }
}

const func = () => new Sniffer('any', 'any');
const cmd = () => new Sniffer('fd', 'fd');

describe('pipe: negotiation (go-pipe TestPipeTypes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipetest-negotiate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const devnull = () => openSync('/dev/null', 'r+');
  const cases: {
    name: string;
    options: () => PipelineOptions;
    stages: () => Sniffer[];
    expect: [Seen, Seen][];
  }[] = [
    { name: 'func', options: () => ({}), stages: () => [func()], expect: [['none', 'none']] },
    {
      name: 'func-file-stdin',
      options: () => ({ stdin: devnull() }),
      stages: () => [func()],
      expect: [['file', 'none']],
    },
    {
      name: 'func-file-stdout',
      options: () => ({ stdout: devnull() }),
      stages: () => [func()],
      expect: [['none', 'file']],
    },
    {
      name: 'func-file-stdout-closer',
      options: () => ({ stdout: devnull(), closeStdout: true }),
      stages: () => [func()],
      expect: [['none', 'file']],
    },
    {
      name: 'func-stream-stdin-stream-stdout',
      options: () => ({ stdin: new PassThrough().end(), stdout: new PassThrough() }),
      stages: () => [func()],
      expect: [['stream', 'stream']],
    },
    { name: 'cmd', options: () => ({}), stages: () => [cmd()], expect: [['none', 'none']] },
    {
      name: 'cmd-file-stdin',
      options: () => ({ stdin: devnull() }),
      stages: () => [cmd()],
      expect: [['file', 'none']],
    },
    {
      name: 'cmd-file-stdout',
      options: () => ({ stdout: devnull() }),
      stages: () => [cmd()],
      expect: [['none', 'file']],
    },
    {
      name: 'cmd-stream-stdin-stream-stdout',
      options: () => ({
        stdin: new PassThrough().end(),
        stdout: new PassThrough(),
        closeStdout: true,
      }),
      stages: () => [cmd()],
      expect: [['stream', 'stream']],
    },
    {
      name: 'func-func',
      options: () => ({ stdin: devnull(), stdout: new PassThrough() }),
      stages: () => [func(), func()],
      expect: [
        ['file', 'stream'],
        ['stream', 'stream'],
      ],
    },
    {
      name: 'func-cmd',
      options: () => ({ stdout: devnull() }),
      stages: () => [func(), cmd()],
      expect: [
        ['none', 'pipe'],
        ['pipe', 'file'],
      ],
    },
    {
      name: 'cmd-func',
      options: () => ({ stdin: new PassThrough().end() }),
      stages: () => [cmd(), func()],
      expect: [
        ['stream', 'pipe'],
        ['pipe', 'none'],
      ],
    },
    {
      name: 'cmd-cmd',
      options: () => ({}),
      stages: () => [cmd(), cmd()],
      expect: [
        ['none', 'pipe'],
        ['pipe', 'none'],
      ],
    },
    {
      name: 'hybrid1',
      options: () => ({}),
      stages: () => [
        new Sniffer('any', 'any'),
        new Sniffer('any', 'fd'),
        new Sniffer('any', 'any'),
      ],
      expect: [
        ['none', 'stream'],
        ['stream', 'pipe'],
        ['pipe', 'none'],
      ],
    },
    {
      name: 'hybrid2',
      options: () => ({}),
      stages: () => [
        new Sniffer('any', 'any'),
        new Sniffer('fd', 'any'),
        new Sniffer('any', 'any'),
      ],
      expect: [
        ['none', 'pipe'],
        ['pipe', 'stream'],
        ['stream', 'none'],
      ],
    },
    {
      name: 'cmd-func-cmd with output()',
      options: () => ({}),
      stages: () => [cmd(), func(), cmd()],
      expect: [
        ['none', 'pipe'],
        ['pipe', 'pipe'],
        ['pipe', 'pipe'],
      ],
    },
    {
      name: 'cmd-func with output()',
      options: () => ({}),
      stages: () => [cmd(), func()],
      expect: [
        ['none', 'pipe'],
        ['pipe', 'stream'],
      ],
    },
  ];
  for (const c of cases) {
    test(
      c.name,
      withLeakCheck(async () => {
        const options = c.options();
        const stages = c.stages();
        const p = pipeline(options).add(...stages);
        if (c.name.endsWith('with output()')) await p.output();
        else await p.run();
        assert.deepEqual(
          stages.map((s) => s.seen),
          c.expect,
        );
        if (typeof options.stdin === 'number') closeSync(options.stdin);
        if (typeof options.stdout === 'number') {
          if (options.closeStdout) assert.equal(fdTarget(options.stdout), undefined, 'closed');
          else closeSync(options.stdout);
        }
      }),
    );
  }
  test('planEdges: commands get kernel pipes, functions memory pipes', () => {
    const f = { name: 'f', preferences: { stdin: 'any', stdout: 'any' } } as const;
    const c = { name: 'c', preferences: { stdin: 'fd', stdout: 'fd' } } as const;
    assert.deepEqual(planEdges([c, c, f, f, c], { stdin: true, stdout: 'caller' }), [
      'caller',
      'kernel',
      'kernel',
      'memory',
      'kernel',
      'caller',
    ]);
    assert.deepEqual(planEdges([f], { stdin: false, stdout: 'capture' }), ['none', 'memory']);
    assert.deepEqual(planEdges([c], { stdin: false, stdout: 'capture' }), ['none', 'kernel']);
  });

  test(
    'the last command writes straight into the caller’s file fd (no copy in between)',
    withLeakCheck(async () => {
      const file = join(dir, 'out.txt');
      const fd = openSync(file, 'w');
      try {
        const stage = command('sh', ['-c', 'readlink /proc/$$/fd/1; echo done']);
        await pipeline({ stdout: fd }).add(command('true'), stage).run();
        const [target, done] = readFileSync(file, 'utf8').trim().split('\n');
        assert.equal(target, file, 'the child’s fd 1 is the file itself');
        assert.equal(done, 'done');
      } finally {
        closeSync(fd);
      }
    }),
  );

  test(
    'a fs.WriteStream with an fd also reaches the command directly; closeStdout ends it',
    withLeakCheck(async () => {
      const { createWriteStream } = await import('node:fs');
      const file = join(dir, 'out2.txt');
      const ws = createWriteStream(file);
      await new Promise((r) => ws.once('open', r));
      await pipeline({ stdout: ws, closeStdout: true })
        .add(command('sh', ['-c', 'readlink /proc/$$/fd/1']))
        .run();
      await new Promise<void>((r) => (ws.closed ? r() : ws.once('close', () => r())));
      assert.equal(readFileSync(file, 'utf8').trim(), file);
    }),
  );

  test(
    'a caller’s socket goes straight to the last command as its stdout',
    withLeakCheck(async () => {
      const net = await import('node:net');
      const path = join(dir, 'sock');
      let received = '';
      const server = net.createServer();
      const gotAll = new Promise<void>((resolve) => {
        server.on('connection', (c) => {
          c.setEncoding('utf8').on('data', (d: string) => {
            received += d;
          });
          c.on('end', () => {
            c.end();
            resolve();
          });
        });
      });
      await new Promise<void>((r) => server.listen(path, () => r()));
      const client = net.connect(path);
      await new Promise((r) => client.once('connect', r));
      await pipeline({ stdout: client, closeStdout: true })
        .add(command('sh', ['-c', 'readlink /proc/$$/fd/1; echo over the socket']))
        .run();
      await gotAll;
      await new Promise((r) => server.close(r));
      const [target, text] = received.split('\n');
      assert.match(target!, /^socket:\[\d+\]$/);
      assert.equal(text, 'over the socket');
    }),
  );

  test(
    'commands talk through kernel pipes: the child sees pipe:[…] on fds 0 and 1',
    withLeakCheck(async () => {
      const out = await pipeline()
        .add(
          command('echo', ['x']),
          command('sh', ['-c', 'readlink /proc/$$/fd/0 /proc/$$/fd/1 >&2; cat'], {
            stderr: 'stdout',
          }),
          command('cat'),
        )
        .text();
      const [fd0, fd1] = out.split('\n');
      assert.match(fd0!, /^pipe:\[\d+\]$/);
      assert.match(fd1!, /^pipe:\[\d+\]$/);
    }),
  );
});
