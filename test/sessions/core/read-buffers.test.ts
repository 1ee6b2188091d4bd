/**
 * Pipe sessions read into reused memory (one buffer shared by every session nobody receives
 * output from, else the stream's own slab): whatever anyone was handed must stay exactly the
 * bytes the program wrote, however many reads follow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AttachmentHost,
  MAX_OUTPUT_FRAME_BYTES,
} from '../../../src/sessions/core/attachment.js';
import { OutputStream } from '../../../src/sessions/core/output-stream.js';
import {
  type AttachmentFrame,
  SessionRegistry,
  type StreamName,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { allFrames, outputOf } from '../lib-helpers.js';

/** `count` numbered 8-byte records from `from`: a misplaced or overwritten byte shows. */
function records(tag: string, count: number, from = 0): Buffer {
  let s = '';
  for (let i = from; i < from + count; i++) s += `${tag}${String(i).padStart(7, '0')}`;
  return Buffer.from(s);
}

/** A shell command printing `records(tag, count)` in many small writes. */
function printer(tag: string, count: number): string {
  return `awk 'BEGIN { for (i = 0; i < ${count}; i++) printf "${tag}%07d", i }'`;
}

/** A session's argv: wait for a line on stdin, then run `printer(tag, count)`. */
function waitingPrinter(tag: string, count: number): string[] {
  return ['sh', '-c', `read go; exec ${printer(tag, count)}`];
}

function makeStream() {
  const host: AttachmentHost = {
    sessionId: 'test',
    writeInput: async (d) => Buffer.byteLength(d),
    closeInput: async () => {},
    resize: () => {},
    release: (a) => stream.release(a),
  };
  const stream = new OutputStream(host, 'stdout', 1 << 20);
  return stream;
}

describe('read buffers', () => {
  it('copies laid end to end join into frames of at most MAX_OUTPUT_FRAME_BYTES; others stay apart', () => {
    const stream = makeStream();
    const a = stream.attach();
    const source = records('a', 20_000); // 160,000 bytes
    // As a read of each 10,000 bytes would hand them on: `keep` copies into the stream's slab.
    for (let at = 0; at < source.length; at += 10_000) {
      stream.push(stream.keep(source.subarray(at, at + 10_000)));
    }
    source.fill(0); // the reused read buffer: later reads overwrite it
    stream.push(Buffer.from('apart')); // memory of its own: not joined to the slab's frames
    const frames: AttachmentFrame[] = [];
    for (let f = a.read(); f !== undefined; f = a.read()) frames.push(f);
    const out = frames.filter((f) => f.type === 'output');
    assert.deepEqual(outputOf(frames), Buffer.concat([records('a', 20_000), Buffer.from('apart')]));
    assert.ok(out.length < 16, `${out.length} frames for 16 pushes: contiguous copies join`);
    assert.ok(out.length >= Math.ceil(160_000 / MAX_OUTPUT_FRAME_BYTES) + 1);
    let offset = 0;
    for (const f of out) {
      assert.ok(f.data.length <= MAX_OUTPUT_FRAME_BYTES);
      assert.equal(f.offset, offset, 'offsets stay contiguous');
      offset += f.data.length;
    }
    assert.equal(out.at(-1)!.data.toString(), 'apart');
    void a.detach();
  });

  it(
    'chunks handed to attachments and output listeners stay intact across later reads of other sessions',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const count = 40_000; // 320,000 bytes each: many reads of each pipe
        const watched = await reg.spawn({ argv: waitingPrinter('w', count) });
        const listened = await reg.spawn({ argv: waitingPrinter('l', count) });
        const unwatched = await reg.spawn({ argv: waitingPrinter('u', count) });
        const heard: Buffer[] = [];
        listened.on('output', (stream: StreamName, chunk: Buffer) => {
          if (stream === 'stdout') heard.push(chunk); // kept without copying, on purpose
        });
        const a = watched.attach('stdout', { lossless: true });
        const frames = allFrames(a);
        for (const s of [watched, listened, unwatched]) await s.writeStdin('go\n', { close: true });
        await Promise.all([watched.exited, listened.exited, unwatched.exited]);
        const expected = (tag: string) => records(tag, count);
        assert.deepEqual(Buffer.concat([a.backlog, outputOf(await frames)]), expected('w'));
        assert.deepEqual(Buffer.concat(heard), expected('l'));
        for (const [s, tag] of [
          [watched, 'w'],
          [listened, 'l'],
          [unwatched, 'u'],
        ] as const) {
          assert.deepEqual(s.snapshot('stdout').data, expected(tag), `ring of ${tag}`);
        }
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'attaching and detaching mid-stream switches read buffers without losing or repeating a byte',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const count = 60_000; // 480,000 bytes: the ring (1 MiB) keeps it all
        const cmd = printer('m', count);
        const s = await reg.spawn({ argv: ['sh', '-c', `read go; ${cmd}; read again; ${cmd}`] });
        await s.writeStdin('go\n');
        // First attachment: from the start, for a while, then gone.
        const first = s.attach('stdout', { fromOffset: 0 });
        const got: Buffer[] = [first.backlog];
        for await (const f of first) {
          if (f.type === 'output') got.push(f.data);
          if (first.position >= 100_000) break;
        }
        const resumeAt = first.position;
        // Reads go on into the shared buffer while nobody is attached.
        await s.writeStdin('again\n', { close: true });
        const second = s.attach('stdout', { fromOffset: resumeAt, lossless: true });
        got.push(second.backlog);
        got.push(outputOf(await allFrames(second)));
        assert.equal(second.missedBytes, 0);
        const all = Buffer.concat([records('m', count), records('m', count)]);
        assert.deepEqual(Buffer.concat(got), all);
        assert.deepEqual(
          s.snapshot('stdout').data,
          all.subarray(Math.max(0, all.length - (1 << 20))),
        );
      } finally {
        await reg.shutdown();
      }
    }),
  );
});
