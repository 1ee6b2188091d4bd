import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listProcesses } from '../../../src/proc/index.js';
import { SessionRegistry } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

describe('sessions leave nothing behind', () => {
  it(
    '100 sessions (half PTY, each with a grandchild) created and terminated leave no fd, pty, process or handle',
    withLeakCheck(
      async () => {
        const reg = new SessionRegistry();
        try {
          for (let i = 0; i < 100; i++) {
            const s = await reg.spawn({
              // a grandchild too: it must not outlive the session
              argv: ['sh', '-c', 'sleep 1000 & echo ready; exec sleep 1000'],
              ...(i % 2 === 0 ? { pty: { rows: 24, cols: 80 } } : {}),
              originator: 'loop',
            });
            const viewer = s.attach('stdout', { readOnly: true });
            const state = await s.terminate({ graceMs: i % 4 < 2 ? 1000 : 0 });
            assert.equal(state.outcome, i % 4 < 2 ? 'soft' : 'hard');
            assert.equal(viewer.ended, true);
            const left = listProcesses().filter(
              (p) => (p.pgrp === s.pid || p.session === s.pid) && p.state !== 'Z',
            );
            assert.deepEqual(left, [], `session ${i} left processes behind`);
            void viewer.detach();
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
