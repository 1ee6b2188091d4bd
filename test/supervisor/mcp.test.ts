/**
 * Against a real JSON-RPC stdio server from the npm registry: the MCP reference "memory" server
 * (`@modelcontextprotocol/server-memory`, a dev dependency). Start it, speak JSON-RPC 2.0 over
 * newline-delimited JSON, match responses to requests by id, stop it cleanly on EOF.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Child, supervise } from '../../src/supervisor/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

const SERVER = fileURLToPath(new URL('../../node_modules/.bin/mcp-server-memory', import.meta.url));
const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/.bin/mcp-server-everything', import.meta.url),
);

interface Response {
  jsonrpc: '2.0';
  id?: number;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A minimal JSON-RPC client: one reader over `messages()`, responses matched by id. */
function rpc(child: Child) {
  const pending = new Map<number, (r: Response) => void>();
  const unmatched: Response[] = [];
  const reader = (async () => {
    for await (const m of child.messages<Response>()) {
      const wait = m.id === undefined ? undefined : pending.get(m.id);
      if (wait) {
        pending.delete(m.id!);
        wait(m);
      } else unmatched.push(m);
    }
  })();
  let next = 1;
  return {
    unmatched,
    reader,
    async request(method: string, params: unknown): Promise<Response> {
      const id = next++;
      const answer = new Promise<Response>((resolve) => pending.set(id, resolve));
      await child.send({ jsonrpc: '2.0', id, method, params });
      return answer;
    },
    notify(method: string): Promise<void> {
      return child.send({ jsonrpc: '2.0', method });
    },
  };
}

describe('supervisor: a real JSON-RPC stdio server (MCP memory server)', () => {
  test(
    'initialize, list tools, call one; responses match by id; stop is clean',
    withLeakCheck(async () => {
      assert.ok(existsSync(SERVER), `${SERVER} is installed`);
      const dir = mkdtempSync(join(tmpdir(), 'sluice-mcp-'));
      const stderr: string[] = [];
      try {
        const child = await supervise({
          argv: [SERVER],
          env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
          onStderr: (line) => stderr.push(line),
          graceMs: 10_000,
          eofTimeoutMs: 5000,
        });
        const client = rpc(child);
        const [init, other] = await Promise.all([
          client.request('initialize', {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'sluice-test', version: '0.0.0' },
          }),
          client.request('ping', {}),
        ]);
        assert.equal(init.jsonrpc, '2.0');
        assert.equal(init.id, 1);
        assert.equal(init.error, undefined, JSON.stringify(init.error));
        assert.equal(typeof init.result?.protocolVersion, 'string');
        assert.equal(
          (init.result?.serverInfo as { name?: string } | undefined)?.name,
          'memory-server',
        );
        assert.equal(other.id, 2);
        await client.notify('notifications/initialized');

        const tools = await client.request('tools/list', {});
        const names = ((tools.result?.tools ?? []) as { name: string }[]).map((t) => t.name);
        assert.ok(names.includes('create_entities'), names.join(','));

        const created = await client.request('tools/call', {
          name: 'create_entities',
          arguments: {
            entities: [{ name: 'sluice', entityType: 'project', observations: ['supervised'] }],
          },
        });
        assert.equal(created.error, undefined, JSON.stringify(created.error));
        assert.equal(created.result?.isError ?? false, false);

        const unknown = await client.request('no/such/method', {});
        assert.equal(unknown.error?.code, -32601, 'method not found, matched by id');

        const info = await child.stop();
        assert.equal(info.outcome, 'eof');
        assert.equal(info.exitCode, 0, 'the server exited on stdin EOF, before any signal');
        await client.reader;
        assert.deepEqual(client.unmatched, []);
        assert.match(readFileSync(join(dir, 'memory.jsonl'), 'utf8'), /"name":"sluice"/);
        assert.ok(
          stderr.some((l) => /running on stdio/.test(l)),
          stderr.join('\n'),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  test(
    "server-everything exits on EOF within the default eofTimeoutMs: stop() reads 'eof', never a signal",
    withLeakCheck(async () => {
      assert.ok(existsSync(EVERYTHING), `${EVERYTHING} is installed`);
      // Defaults only: no eofTimeoutMs, no graceMs. It takes 0.3–0.45 s to exit after EOF.
      const child = await supervise({ argv: [EVERYTHING, 'stdio'] });
      const client = rpc(child);
      const init = await client.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'sluice-test', version: '0.0.0' },
      });
      assert.equal(init.error, undefined, JSON.stringify(init.error));
      await client.notify('notifications/initialized');
      const t0 = performance.now();
      const info = await child.stop();
      const ms = performance.now() - t0;
      process.stderr.write(`# server-everything stopped on EOF in ${ms.toFixed(0)} ms\n`);
      assert.deepEqual([info.exitCode, info.signal, info.outcome], [0, null, 'eof']);
      await client.reader;
    }),
  );
});
