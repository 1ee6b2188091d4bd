// Loaded with --import into every test process (scripts/test.mjs): gives the process, and every
// child it starts, a private temp dir, so the leak checker's temp-entry comparison sees only
// what this test file made, even when other test files or benches run at the same time.
// Removed when the process exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), `test-tmp-${process.pid}-`));
process.env.TMPDIR = dir;
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
