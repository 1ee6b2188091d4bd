import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSessionId } from '../../../src/sessions/core/ids.js';
import {
  AlreadyAttachedError,
  RegistryClosedError,
  type Session,
  SessionNotFoundError,
  SessionRegistry,
  SessionRunningError,
} from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { waitFor } from '../../helpers/wait.js';
import { isGone } from '../lib-helpers.js';

describe('SessionRegistry', () => {
  it(
    'ids are unique; list keeps creation order; get, resolve by prefix, list filtered by originator',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const made: Session[] = [];
        for (const [i, originator] of ['a', 'b', 'a', 'c', 'a'].entries()) {
          made.push(
            await reg.spawn({
              argv: ['sleep', '1000'],
              originator,
              ...(i === 2 ? { pty: { rows: 24, cols: 80 } } : {}),
            }),
          );
        }
        const ids = made.map((s) => s.id);
        assert.ok(ids.every(isSessionId));
        assert.equal(new Set(ids).size, ids.length, 'ids are unique');
        assert.deepEqual(
          reg.list().map((s) => s.id),
          ids,
        );
        assert.deepEqual(
          reg.list({ originator: 'a' }).map((s) => s.id),
          [ids[0], ids[2], ids[4]],
        );
        assert.equal(reg.get(ids[1]!), made[1]);
        assert.equal(reg.get('nope'), undefined);
        assert.equal(reg.resolve(ids[3]!), made[3]);
        assert.throws(() => reg.resolve(''), SessionNotFoundError);
        const info = made[2]!.info();
        assert.equal(info.kind, 'pty');
        assert.equal(info.state, 'running');
        assert.equal(info.originator, 'a');
        assert.deepEqual(JSON.parse(JSON.stringify(made[2])), info);
      } finally {
        await reg.shutdown({ graceMs: 0 });
      }
    }),
  );

  it(
    'purgeExited removes only exited sessions of that originator; remove refuses a running one',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        const doneA = await reg.spawn({ argv: ['true'], originator: 'a' });
        const doneB = await reg.spawn({ argv: ['true'], originator: 'b' });
        const runningA = await reg.spawn({ argv: ['sleep', '1000'], originator: 'a' });
        await Promise.all([doneA.exited, doneB.exited]);
        assert.deepEqual(await reg.purgeExited('a'), [doneA.id]);
        assert.deepEqual(
          reg.list().map((s) => s.id),
          [doneB.id, runningA.id],
        );
        assert.deepEqual(await reg.purgeExited(), [doneB.id]);
        await assert.rejects(reg.remove(runningA.id), SessionRunningError);
        assert.equal(reg.size, 1);
        assert.equal(await reg.remove('nope'), undefined);
        assert.equal(await reg.remove(runningA.id, { force: true }), runningA);
        assert.equal(reg.size, 0);
        assert.ok(isGone(runningA.pid));
        assert.equal((await runningA.exited).outcome, 'hard');
      } finally {
        await reg.shutdown();
      }
    }),
  );

  it(
    'concurrent attach attempts without steal: exactly one winner',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      try {
        for (const pty of [undefined, { rows: 24, cols: 80 }]) {
          const s = await reg.spawn({ argv: ['cat'], ...(pty ? { pty } : {}) });
          const attempts = await Promise.allSettled(
            Array.from({ length: 20 }, async () => {
              await null;
              return s.attach();
            }),
          );
          const won = attempts.filter((r) => r.status === 'fulfilled');
          const lost = attempts.filter((r) => r.status === 'rejected');
          assert.equal(won.length, 1);
          assert.equal(lost.length, 19);
          for (const r of lost) assert.ok(r.reason instanceof AlreadyAttachedError);
          void (won[0] as PromiseFulfilledResult<ReturnType<Session['attach']>>).value.detach();
        }
      } finally {
        await reg.shutdown({ graceMs: 0 });
      }
    }),
  );

  it(
    'shutdown stops every session, leaves no orphan and refuses later spawns',
    withLeakCheck(async () => {
      const reg = new SessionRegistry();
      const a = await reg.spawn({ argv: ['sh', '-c', 'sleep 1000 & echo $!; wait'] });
      const b = await reg.spawn({ argv: ['sleep', '1000'], pty: { rows: 24, cols: 80 } });
      await waitFor(() => /\d+\n/.test(a.snapshot().data.toString())); // the grandchild runs
      await reg.shutdown({ graceMs: 1000 });
      assert.equal(reg.size, 0);
      for (const s of [a, b]) {
        assert.ok(s.hasExited);
        assert.ok(isGone(s.pid));
      }
      const gc = Number(a.snapshot().data.toString().trim());
      assert.ok(gc > 0 && isGone(gc));
      await assert.rejects(reg.spawn({ argv: ['true'] }), RegistryClosedError);
      await reg.shutdown();
    }),
  );
});
