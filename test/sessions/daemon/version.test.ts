/** The daemon reports the sluice version it runs (from the package's own package.json). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SessionDaemon } from '../../../src/sessions/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

test(
  'SessionDaemon.version is the package version, never "unknown"',
  withLeakCheck(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-version-'));
    try {
      await using daemon = await SessionDaemon.start({
        socketPath: join(dir, 'd.sock'),
        log: null,
      });
      const pkg = JSON.parse(
        readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
      ) as { version: string };
      assert.equal(daemon.version, pkg.version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }),
);
