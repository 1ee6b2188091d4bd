import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSessionId } from '../../../src/sessions/core/ids.js';
import { MIN_ID_PREFIX_LENGTH, resolveIdPrefix } from '../../../src/sessions/core/registry.js';
import {
  AlreadyAttachedError,
  AmbiguousSessionIdError,
  RegistryClosedError,
  type Session,
  SessionIdTooShortError,
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
        // A prefix of 4 characters names its session; fewer are refused, whoever they match.
        assert.equal(reg.resolve(ids[3]!.slice(0, 4)), made[3]);
        for (const short of ['', ids[3]!.slice(0, 1), ids[3]!.slice(0, 3)]) {
          assert.throws(() => reg.resolve(short), SessionIdTooShortError, short);
        }
        assert.throws(() => reg.resolve('zzzzzzzzzzz'), SessionNotFoundError);
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

  it('an id prefix: at least 4 characters and unique, else a typed error that says why', () => {
    assert.equal(MIN_ID_PREFIX_LENGTH, 4);
    const ids = ['k3v9q2m7xa', 'k3v9zz1111', 'k3w0000000', 'ab'];
    assert.equal(resolveIdPrefix(ids, 'k3w0'), 'k3w0000000');
    assert.equal(resolveIdPrefix(ids, 'k3v9q'), 'k3v9q2m7xa');
    assert.equal(resolveIdPrefix(ids, 'k3v9zz1111'), 'k3v9zz1111');
    // A whole id resolves whatever its length.
    assert.equal(resolveIdPrefix(ids, 'ab'), 'ab');
    const ambiguous = (() => {
      try {
        resolveIdPrefix(ids, 'k3v9');
      } catch (e) {
        return e;
      }
      assert.fail('an ambiguous prefix resolved');
    })();
    assert.ok(ambiguous instanceof AmbiguousSessionIdError);
    assert.equal(ambiguous.code, 'ERR_SLUICE_SESSIONS_AMBIGUOUS_ID');
    assert.deepEqual(ambiguous.matches, ['k3v9q2m7xa', 'k3v9zz1111']);
    assert.equal(
      ambiguous.message,
      'session id "k3v9" is ambiguous: 2 sessions match (k3v9q2m7xa, k3v9zz1111); give more characters',
    );
    assert.throws(
      () => resolveIdPrefix(ids, 'k3v'),
      (e: unknown) =>
        e instanceof SessionIdTooShortError &&
        e.code === 'ERR_SLUICE_SESSIONS_ID_TOO_SHORT' &&
        e.minLength === 4 &&
        e.message ===
          'session id "k3v" is too short: give the whole id or at least 4 of its characters',
    );
    assert.throws(
      () => resolveIdPrefix(ids, 'k3x0'),
      (e: unknown) => e instanceof SessionNotFoundError && e.message === 'no session "k3x0"',
    );
    // Many matches: the message names ten and counts the rest.
    const many = Array.from({ length: 12 }, (_, i) => `abcd${String(i).padStart(6, '0')}`);
    assert.throws(
      () => resolveIdPrefix(many, 'abcd'),
      /12 sessions match \(abcd000000, .*, abcd000009 and 2 more\)/,
    );
  });

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
