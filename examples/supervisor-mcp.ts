/**
 * Talk JSON-RPC to an MCP server over stdio, as an MCP broker would: start the reference memory
 * server, initialize, list its tools, stop it cleanly (it exits on stdin EOF, no signal needed).
 * Run: npx tsx examples/supervisor-mcp.ts
 */
import { fileURLToPath } from 'node:url';
import { supervise } from '../src/supervisor/index.js'; // in your project: 'sluice/supervisor'

const server = fileURLToPath(new URL('../node_modules/.bin/mcp-server-memory', import.meta.url));

interface Message {
  id?: number;
  result?: { serverInfo?: { name: string }; tools?: { name: string }[] };
  error?: { message: string };
}

// `await using` stops the child (stdin EOF, SIGTERM to its group, grace, SIGKILL) however this
// block is left.
await using child = await supervise({
  argv: [server],
  env: { MEMORY_FILE_PATH: '/tmp/sluice-example-memory.jsonl' },
  onStderr: (line) => console.error(`[server] ${line}`),
});

// One reader of stdout; responses are matched to requests by id.
const waiting = new Map<number, (m: Message) => void>();
const reader = (async () => {
  for await (const m of child.messages<Message>()) {
    if (m.id !== undefined) waiting.get(m.id)?.(m);
  }
})();
let nextId = 1;
async function request(method: string, params: unknown): Promise<Message> {
  const id = nextId++;
  const reply = new Promise<Message>((resolve) => waiting.set(id, resolve));
  await child.send({ jsonrpc: '2.0', id, method, params });
  return reply;
}

const init = await request('initialize', {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'sluice-example', version: '1.0.0' },
});
console.log('server:', init.result?.serverInfo?.name);
await child.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
const tools = await request('tools/list', {});
console.log('tools:', tools.result?.tools?.map((t) => t.name).join(', '));

const info = await child.stop();
await reader;
console.log(`stopped: exit code ${info.exitCode}, outcome ${info.outcome}`); // exit code 0, outcome eof
