import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSessionId, newSessionId } from '../../../src/sessions/core/ids.js';

describe('session ids', () => {
  it('are random, short and typeable: no time order, no predictable prefix', () => {
    const ids = Array.from({ length: 2000 }, () => newSessionId());
    for (const id of ids) {
      assert.match(id, /^[0-9a-z]{10}$/, 'ten lowercase letters and digits');
      assert.doesNotMatch(id, /[ilou]/, 'no letters that read as others');
      assert.ok(isSessionId(id));
    }
    assert.equal(new Set(ids).size, ids.length, 'unique');
    // Made one after another within a few milliseconds: time-based ids would share a prefix and
    // sort in creation order. Random ones spread over the whole alphabet from the first character.
    const sorted = [...ids].sort();
    assert.notDeepEqual(sorted, ids, 'string order is not creation order');
    assert.ok(new Set(ids.map((id) => id[0])).size >= 28, 'first characters cover the alphabet');
    assert.ok(new Set(ids.map((id) => id.slice(0, 3))).size > 1500, 'no shared prefixes');
  });

  it('isSessionId refuses anything else', () => {
    for (const bad of [
      '',
      'ABCDEFGHJK',
      'abc',
      'abcdefghjkm',
      'abcdefghj!',
      'iiiiiiiiii',
      42,
      null,
    ]) {
      assert.equal(isSessionId(bad), false, String(bad));
    }
  });
});
