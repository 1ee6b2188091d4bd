import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SessionRegistry } from '../../../src/sessions/core/registry.js';
import { Spooler } from '../../../src/sessions/daemon/spool.js';
import { withLeakCheck } from '../../helpers/leaks.js';
import { tempDir } from '../daemon-harness.js';

function totalSize(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

describe('spooling (--log-dir)', () => {
  test(
    'files stay under the cap, rotation keeps `keep` old files, and the folder stays within its budget',
    withLeakCheck(async () => {
      const dir = tempDir('spool-unit');
      const registry = new SessionRegistry();
      try {
        const spooler = new Spooler({ dir, maxBytes: 1000, keep: 1, maxTotalBytes: 6000 });
        const sessions = [];
        for (let i = 0; i < 5; i++) {
          // 3,000 bytes each: three files' worth, of which keep + 1 = 2 stay per stream.
          const s = await registry.spawn({
            argv: ['sh', '-c', `head -c 3000 /dev/zero | tr '\\0' ${'abcde'[i]}`],
          });
          spooler.track(s);
          sessions.push(s);
        }
        await Promise.all(sessions.map((s) => s.exited));
        await spooler.close();
        const names = readdirSync(dir);
        for (const f of names) assert.ok(statSync(join(dir, f)).size <= 1000, f);
        assert.ok(totalSize(dir) <= 6000 + 1000, `within the budget: ${totalSize(dir)}`);
        // The newest bytes of the last session are there, rotated in order.
        const last = sessions[4]!;
        const current = readFileSync(spooler.pathFor(last.id, 'stdout'), 'utf8');
        assert.equal(current, 'e'.repeat(1000));
        assert.ok(!names.some((f) => /\.log\.2$/.test(f)), 'keep: 1 keeps one rotated file');
      } finally {
        await registry.shutdown({ graceMs: 0 });
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test('bad options are refused with one clear message', () => {
    const dir = tempDir('spool-bad');
    try {
      assert.throws(() => new Spooler({ dir, maxBytes: 0 }), /size cap must be a positive integer/);
      assert.throws(() => new Spooler({ dir, keep: -1 }), /rotated files kept/);
      const file = join(dir, 'f');
      writeFileSync(file, '');
      assert.throws(() => Spooler.prepare(file), /EEXIST|not a directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
