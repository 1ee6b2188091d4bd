/**
 * A flaky worker under a restart policy: it crashes twice, then keeps running. The supervisor
 * restarts it with exponential backoff, reports every restart, and stop() ends it for good.
 * Run: npx tsx examples/supervisor-restart.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { supervise } from '../src/supervisor/index.js'; // in your project: 'sluice/supervisor'

// The worker counts its starts in a file and crashes on the first two.
const dir = mkdtempSync(join(tmpdir(), 'sluice-example-'));
const script = `
  n=$(( $(cat "${dir}/starts" 2>/dev/null || echo 0) + 1 )); echo $n > "${dir}/starts"
  echo "start $n"
  [ $n -le 2 ] && { echo "crashing" >&2; exit 1; }
  exec cat`;

const child = await supervise({
  argv: ['sh', '-c', script],
  onStderr: (line) => console.log(`  stderr: ${line}`),
  restart: { maxRestarts: 5, backoffMs: 100, maxBackoffMs: 2000, minUptimeMs: 1000 },
});
child.on('restart', (e) =>
  console.log(`  restart #${e.attempt} in ${e.delayMs} ms (exit code ${e.exit?.exitCode})`),
);
child.on('giveup', (e) => console.log(`  gave up after ${e.restarts} restarts`));

// lines() spans every run of the child, in order.
for await (const line of child.lines()) {
  console.log(line);
  if (line === 'start 3') break; // the third run stays up
}
const info = await child.stop();
console.log(`stopped after ${child.restarts} restarts: outcome ${info.outcome}`);
rmSync(dir, { recursive: true, force: true });
