import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  AttachmentClosedError,
  type ClientAttachment,
  isRequestError,
  ReadOnlyAttachmentError,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { ROOT, startDaemon } from '../daemon-harness.js';

/** Collects an attachment's data until `until(text)` holds; returns the text so far. */
async function readUntil(a: ClientAttachment, until: (text: string) => boolean): Promise<string> {
  let text = '';
  const it = a[Symbol.asyncIterator]();
  while (!until(text)) {
    const r = await it.next();
    if (r.done) break;
    if (r.value.type === 'output') text += r.value.data.toString('utf8');
  }
  return text;
}

/** A child that echoes each stdin line as `echo: LINE`. */
const ECHO = ['sh', '-c', 'echo ready; while read l; do echo "echo: $l"; done'];

describe('attach through the client', () => {
  test(
    'attach, detach and re-attach: history stays, and fromOffset gives only what was missed',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ECHO });
        await waitFor(async () => (await c.snapshot(s.id)).data.length > 0);
        const a1 = await c.attach(s.id);
        assert.equal(a1.backlog.toString(), 'ready\n');
        assert.equal(a1.backlogOffset, 0);
        a1.write('one\n');
        assert.equal(await readUntil(a1, (t) => t.includes('one\n')), 'echo: one\n');
        const seen = a1.position;
        assert.equal(seen, 'ready\necho: one\n'.length);
        await a1.detach();
        assert.equal((await a1.done).reason, 'detached');

        // While nobody is attached, output accumulates.
        await c.writeStdin(s.id, 'two\n');
        await waitFor(async () => (await c.snapshot(s.id)).data.toString().includes('two'));

        // A plain re-attach sees the whole history again (attaching never erases it)...
        const a2 = await c.attach(s.id);
        assert.equal(a2.backlog.toString(), 'ready\necho: one\necho: two\n');
        await a2.detach();
        // ...and one from the old position gets exactly what it had not seen.
        const a3 = await c.attach(s.id, { fromOffset: seen });
        assert.equal(a3.backlog.toString(), 'echo: two\n');
        assert.equal(a3.backlogOffset, seen);
        assert.equal(a3.missedBytes, 0);
        await a3.closeStdin();
        const events: string[] = [];
        for await (const ev of a3) events.push(ev.type);
        assert.deepEqual(events, ['eof', 'exit']);
        assert.equal(a3.ended?.reason, 'exited');
        // stdin closed by us, then the child exited on its own: the outcome says so
        assert.equal(a3.ended?.exit?.outcome, 'eof');
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'one writer per stream: a second attach is refused, steal takes over, read-only viewers watch beside',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ECHO });
        const w1 = await c.attach(s.id);
        await assert.rejects(c.attach(s.id), (e: unknown) => isRequestError(e, 'already-attached'));
        const viewer = await c.attach(s.id, { readOnly: true });
        assert.equal(viewer.readOnly, true);
        await assert.rejects(viewer.write('x\n'), ReadOnlyAttachmentError);

        const w2 = await c.attach(s.id, { steal: true });
        const end1 = await w1.done;
        assert.equal(end1.reason, 'stolen');
        await assert.rejects(w1.write('late\n'), AttachmentClosedError);
        w2.write('hello\n');
        assert.match(await readUntil(w2, (t) => t.includes('hello')), /echo: hello\n$/);
        // The viewer saw the same output, and stayed attached through the steal.
        assert.match(await readUntil(viewer, (t) => t.includes('hello')), /echo: hello\n$/);
        assert.equal(viewer.ended, undefined);

        const info = await c.get(s.id);
        assert.deepEqual(info.attachments.stdout, {
          writer: true,
          viewers: 1,
          bytes: 'ready\necho: hello\n'.length,
          dropped: 0,
        });
        await w2.detach();
        await viewer.detach();
        await c.stop(s.id, { graceMs: 0, wait: true });
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'a read-only viewer that sends input anyway is cut off; the session and the daemon go on',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const s = await c.spawn({ argv: ECHO });
        const viewer = await c.attach(s.id, { readOnly: true });
        // Bypass the client's own check and send the command on the wire.
        (viewer as unknown as { conn: { sendCommand(x: unknown): void } }).conn.sendCommand({
          op: 'input',
          data: Buffer.from('sneaky\n'),
        });
        const end = await viewer.done;
        assert.equal(end.reason, 'error');
        assert.match(end.message ?? '', /read-only/);
        await c.writeStdin(s.id, 'fine\n');
        await waitFor(async () => (await c.snapshot(s.id)).data.toString().includes('echo: fine'));
        assert.doesNotMatch((await c.snapshot(s.id)).data.toString(), /sneaky/);
        await c.stop(s.id, { graceMs: 0, wait: true });
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'a client killed mid-attach disturbs nothing: the seat frees, output goes on, others are served',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        // A chatty session, so the killed client has data in flight.
        const s = await c.spawn({
          argv: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.01; done'],
        });
        const viewer = await c.attach(s.id, { readOnly: true });
        const script = `
          import { SessionsClient } from './src/sessions/index.ts';
          const c = await SessionsClient.connect({ socketPath: ${JSON.stringify(d.socket)} });
          const a = await c.attach(${JSON.stringify(s.id)});
          a.write('');
          process.stdout.write('attached\\n');
          for await (const _ of a) {}
        `;
        const victim = spawn(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          {
            cwd: ROOT,
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const exit = new Promise((r) => victim.once('exit', (_c, sig) => r(sig)));
        let said = '';
        victim.stdout.setEncoding('utf8').on('data', (t: string) => {
          said += t;
        });
        await waitFor(() => said.includes('attached'), { timeoutMs: 15_000 });
        await waitFor(async () => (await c.get(s.id)).attachments.stdout?.writer === true);
        victim.kill('SIGKILL');
        assert.equal(await exit, 'SIGKILL');

        // The seat is freed: a new writer attaches without steal.
        await waitFor(async () => (await c.get(s.id)).attachments.stdout?.writer === false);
        const w = await c.attach(s.id);
        const before = (await c.get(s.id)).attachments.stdout!.bytes;
        // The session kept running and the viewer kept receiving.
        const text = await readUntil(viewer, (t) => t.split('\n').length > 20);
        assert.match(text, /line \d+\n/);
        await waitFor(async () => (await c.get(s.id)).attachments.stdout!.bytes > before);
        assert.equal((await c.get(s.id)).state, 'running');
        await w.detach();
        await viewer.detach();
        const stopped = await c.terminate(s.id);
        assert.equal(stopped.outcome, 'soft');
      } finally {
        await d.stop();
      }
    }),
  );

  test(
    'a slow reader is told what it missed, and the bytes it gets are in stream order',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        // 16 MiB as fast as possible; the reader does not read until it is all written.
        const s = await c.spawn({ argv: ['sh', '-c', 'head -c 16777216 /dev/zero | tr "\\0" x'] });
        const a = await c.attach(s.id);
        await waitFor(async () => (await c.get(s.id)).state === 'exited', { timeoutMs: 20_000 });
        let got = a.backlog.length;
        let missed = a.missedBytes;
        let position = a.backlogOffset + a.backlog.length;
        for await (const ev of a) {
          if (ev.type === 'output') {
            assert.equal(ev.offset, position, 'no gap without a missed event');
            got += ev.data.length;
            position += ev.data.length;
          } else if (ev.type === 'missed') {
            assert.equal(ev.offset, position + ev.bytes);
            missed += ev.bytes;
            position = ev.offset;
          }
        }
        assert.equal(a.ended?.reason, 'exited');
        assert.equal(got + missed, 16 * 1024 * 1024, `got ${got} + missed ${missed}`);
        assert.ok(missed > 0, 'a reader that far behind must have missed some');
      } finally {
        await d.stop();
      }
    }),
  );
  test(
    'a lossless attach holds the program while the reader lags: every byte, none missed',
    withLeakCheck(async () => {
      const d = await startDaemon();
      try {
        const c = await d.client();
        const total = 32 * 1024 * 1024;
        // Numbered lines, so any lost or repeated byte shows in the comparison.
        const script = `read go; seq 1 9999999 | head -c ${total}`;
        const s = await c.spawn({ argv: ['sh', '-c', script] });
        const a = await c.attach(s.id, { lossless: true });
        await a.write('go\n');
        const it = a[Symbol.asyncIterator]();
        const first = await it.next();
        assert.equal(first.done, false);
        // The reader stops: the socket, the daemon's queue and the pipe fill, and the program
        // must then wait for it (32 MiB is far more than all of those hold together). Polled
        // until the output stops growing for 200 ms: held, well short of the end.
        let last = -1;
        let since = performance.now();
        await waitFor(
          async () => {
            const bytes = (await c.get(s.id)).attachments.stdout!.bytes;
            if (bytes !== last) {
              last = bytes;
              since = performance.now();
            }
            return performance.now() - since > 200;
          },
          { timeoutMs: 30_000, message: 'the program was never held' },
        );
        assert.ok(last < total / 2, `held at ${last} of ${total} bytes`);
        assert.equal((await c.get(s.id)).state, 'running');
        const parts: Buffer[] = [a.backlog];
        if (first.value?.type === 'output') parts.push(first.value.data);
        for (let r = await it.next(); !r.done; r = await it.next()) {
          assert.notEqual(r.value.type, 'missed');
          if (r.value.type === 'output') parts.push(r.value.data);
        }
        assert.equal(a.ended?.reason, 'exited');
        const out = Buffer.concat(parts);
        const expected = (await import('node:child_process')).execFileSync(
          'sh',
          ['-c', `seq 1 9999999 | head -c ${total}`],
          { maxBuffer: total * 2 },
        );
        assert.equal(out.length, total);
        assert.ok(out.equals(expected), 'byte for byte');
      } finally {
        await d.stop();
      }
    }),
  );
});
