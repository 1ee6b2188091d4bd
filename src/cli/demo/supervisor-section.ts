/**
 * Demo, supervisor: a JSON-RPC child (a small Node server written on the spot, so the demo needs
 * nothing but the machine) is started, asked, and stopped gracefully: stdin closed, and it exits
 * on EOF without ever needing SIGTERM.
 */
import { supervise } from '../../supervisor/index.js';
import type { DemoContext } from './context.js';

/** A JSON-RPC 2.0 server over newline-delimited stdio that sums and reverses. */
const SERVER = `
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line);
  const result = req.method === 'sum' ? req.params.reduce((a, b) => a + b, 0)
    : req.method === 'reverse' ? [...req.params[0]].reverse().join('')
    : undefined;
  const reply = result === undefined
    ? { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: 'method not found' } }
    : { jsonrpc: '2.0', id: req.id, result };
  process.stdout.write(JSON.stringify(reply) + '\\n');
});
rl.on('close', () => { process.stderr.write('server: stdin closed, exiting\\n'); process.exit(0); });
process.stderr.write('server: ready\\n');
`;

interface Reply {
  id: number;
  result?: unknown;
  error?: { message: string };
}

export const title = 'supervisor: a JSON-RPC child, asked and stopped gracefully';

export async function run(ctx: DemoContext): Promise<void> {
  const stderr: string[] = [];
  const child = await supervise({
    argv: [process.execPath, '-e', SERVER],
    graceMs: 2000,
    onStderr: (line) => stderr.push(line),
  });
  ctx.defer(() => child.stop({ graceMs: 500 }));
  ctx.say(`started pid ${child.pid} in its own process group`);
  const replies = child.messages<Reply>()[Symbol.asyncIterator]();
  const ask = async (id: number, method: string, params: unknown[]) => {
    const t0 = performance.now();
    await child.send({ jsonrpc: '2.0', id, method, params });
    const { value } = await replies.next();
    const ms = (performance.now() - t0).toFixed(1);
    const answer = value?.error ? `error: ${value.error.message}` : JSON.stringify(value?.result);
    ctx.say(
      `  → ${method}(${JSON.stringify(params).slice(1, -1)})  ←  ${answer}  (id ${value?.id}, ${ms} ms)`,
    );
  };
  await ask(1, 'sum', [1, 2, 3, 4]);
  await ask(2, 'reverse', ['sluice']);
  await ask(3, 'divide', [1, 0]);
  if (ctx.signal.aborted) return;
  const t0 = performance.now();
  const info = await child.stop();
  const ms = (performance.now() - t0).toFixed(0);
  ctx.say(
    `stopped in ${ms} ms: exit code ${info.exitCode}, signal ${info.signal ?? 'none'}, outcome '${info.outcome}'`,
  );
  ctx.say(`its stderr, read line by line: ${stderr.map((l) => JSON.stringify(l)).join(', ')}`);
  ctx.notice(
    "stop() closed stdin first and the server exited on EOF: no SIGTERM, no 5 s grace wait (pm2's default is to signal first)",
  );
}
