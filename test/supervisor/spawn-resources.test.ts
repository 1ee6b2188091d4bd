import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withLeakCheck } from '../helpers/leaks.js';

const fixture = fileURLToPath(new URL('./fixtures/spawn-emfile.ts', import.meta.url));

test(
  'out of fds (EMFILE), supervise() and spawnGroup() reject with ERR_SLUICE_SPAWN_RESOURCES, leak no fd, and work again once fds are freed',
  withLeakCheck(async () => {
    const out = await new Promise<string>((resolve, reject) => {
      // The fixture lowers its own fd limit once its modules are loaded (40 fds to spare).
      execFile(
        process.execPath,
        ['--import', 'tsx', fixture, '40'],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error}\n${stderr}`)) : resolve(stdout),
      );
    });
    const report = JSON.parse(out) as {
      attempts: { free: number; api: string; result: string; leakedFds: number }[];
      after: string;
      uncaught: string[];
    };
    assert.deepEqual(report.uncaught, [], 'no uncaught exception');
    for (const a of report.attempts) {
      assert.ok(
        a.result === 'ok' || a.result === 'SpawnError:ERR_SLUICE_SPAWN_RESOURCES',
        `${a.api} with ${a.free} fds free: ${a.result}`,
      );
      // Fewer fds after than before is not a leak: the loader's own fds (tsx's esbuild service)
      // may close meanwhile.
      assert.ok(a.leakedFds <= 0, `${a.api} with ${a.free} fds free leaked ${a.leakedFds} fds`);
    }
    for (const api of ['spawnGroup', 'supervise']) {
      const mine = report.attempts.filter((a) => a.api === api);
      assert.equal(mine[0]!.result, 'SpawnError:ERR_SLUICE_SPAWN_RESOURCES', `${api}, 0 free`);
      assert.equal(mine.at(-1)!.result, 'ok', `${api}, 12 free`);
    }
    assert.equal(report.after, 'ok');
  }),
);
