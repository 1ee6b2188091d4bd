import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionRegistry } from '../../src/sessions/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

describe('sessions leave nothing behind', () => {
  it(
    '100 sessions (half PTY) created and terminated in a loop leave no fd, pty, child or handle',
    withLeakCheck(
      async () => {
        const reg = new SessionRegistry();
        try {
          for (let i = 0; i < 100; i++) {
            const s = await reg.spawn({
              argv: ['sh', '-c', 'echo ready; exec sleep 1000'],
              ...(i % 2 === 0 ? { pty: { rows: 24, cols: 80 } } : {}),
              originator: 'loop',
            });
            const viewer = s.attach('stdout', { readOnly: true });
            const state = await s.terminate({ graceMs: i % 4 < 2 ? 1000 : 0 });
            assert.equal(state.outcome, i % 4 < 2 ? 'soft' : 'hard');
            assert.equal(viewer.ended, true);
            viewer.detach();
          }
          assert.equal((await reg.purgeExited('loop')).length, 100);
        } finally {
          await reg.shutdown();
        }
      },
      { timeoutMs: 10000 },
    ),
  );
});
