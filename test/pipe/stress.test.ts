/**
 * 1,000 pipelines in a loop, eight at a time, with random early exits and aborts: every promise
 * settles with an expected outcome, and nothing (fd, child, handle, temp entry) is left behind.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  command,
  FinishEarly,
  fn,
  isPipeError,
  linewise,
  MaxBufferError,
  PipelineError,
  pipeline,
  write,
} from '../../src/pipe/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Outcome = 'ok' | 'pipe' | 'aborted' | 'exit' | 'maxbuffer';

async function one(r: () => number): Promise<Outcome> {
  const kind = Math.floor(r() * 7);
  const controller = new AbortController();
  const classify = (e: unknown): Outcome => {
    if (e instanceof MaxBufferError) return 'maxbuffer';
    if (!(e instanceof PipelineError)) throw e;
    if (e.cause === controller.signal.reason) return 'aborted';
    if (isPipeError(e)) return 'pipe';
    if (e.exitCode !== null) return 'exit';
    throw e;
  };
  const abortSoon = () => {
    const delay = Math.floor(r() * 4);
    if (delay === 0) queueMicrotask(() => controller.abort());
    else setTimeout(() => controller.abort(), delay);
  };
  try {
    switch (kind) {
      case 0: // early exit downstream: yes dies of SIGPIPE
        await pipeline()
          .add(command('yes'), command('head', ['-n', String(1 + Math.floor(r() * 50))]))
          .run();
        return 'ok';
      case 1: {
        // a function finishing early after a command
        const stop = 1 + Math.floor(r() * 1000);
        await pipeline()
          .add(
            command('seq', ['100000']),
            linewise('stop', (_l, ctx) => {
              if (ctx.lineNumber === stop) throw FinishEarly;
            }),
          )
          .run();
        return 'ok';
      }
      case 2: // abort at a random moment, a command and functions in between
        abortSoon();
        await pipeline({ signal: controller.signal, killGraceMs: 500 })
          .add(
            command('yes'),
            fn('copy', async (_ctx, stdin, stdout) => {
              for await (const c of stdin) await write(stdout, c as Buffer);
            }),
            command('cat'),
          )
          .run();
        return 'ok';
      case 3: // abort a command that would sleep
        abortSoon();
        await pipeline({ signal: controller.signal })
          .add(command('sleep', ['5']), command('cat'))
          .run();
        return 'ok';
      case 4: {
        // lines() left early
        let n = 0;
        for await (const _ of pipeline()
          .add(command('seq', ['100000']), command('cat'))
          .lines()) {
          if (++n >= 1 + Math.floor(r() * 100)) break;
        }
        return 'ok';
      }
      case 5: // maxBuffer reached
        await pipeline({ maxBuffer: 1 + Math.floor(r() * 100000) })
          .add(command('yes'))
          .output();
        return 'ok';
      default: // plain exit codes
        await pipeline()
          .add(command(r() < 0.5 ? 'false' : 'true'), command('cat'))
          .run();
        return 'ok';
    }
  } catch (e) {
    return classify(e);
  }
}

describe('pipe: stress', () => {
  test(
    '1,000 pipelines with random early exits and aborts settle and leave nothing behind',
    withLeakCheck(
      async () => {
        const r = rng(0x51c3);
        const total = 1000;
        let next = 0;
        const counts = new Map<Outcome, number>();
        let settled = 0;
        const worker = async () => {
          while (next < total) {
            next++;
            const outcome = await one(r);
            settled++;
            counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        assert.equal(settled, total);
        // Every kind of ending happened.
        for (const o of ['ok', 'aborted', 'exit', 'maxbuffer'] as const) {
          assert.ok((counts.get(o) ?? 0) > 0, `${o}: ${JSON.stringify([...counts])}`);
        }
      },
      { timeoutMs: 10000 },
    ),
  );
});
