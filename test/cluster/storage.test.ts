/**
 * The `storage` option of a cluster stage: file (the default) or memory, what a memory stage
 * loses with a server restart (the stage fails, never hangs), and bad values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { ClusterUnavailableError, connect, startNatsServer } from '../../src/cluster/index.js';
import { InvalidOptionError } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';
import type { WorkItem, WorkResult } from './fixtures/work.js';
import work from './fixtures/work.js';
import { collect, values } from './helpers.js';

const LONG = { timeoutMs: 20_000 };

describe('cluster stage storage', () => {
  it(
    "keeps items in memory with storage: 'memory', in files by default, and recreates the stream when it changes",
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      await using coord = await connect({ servers: server.url, name: 'storage' });
      await using workers = await connect({ servers: server.url, name: 'storage' });
      const jsm = await jetstreamManager(coord.connection);
      const storageOf = async (stream: string) => (await jsm.streams.info(stream)).config.storage;

      const file = await coord.stage<WorkItem, WorkResult>('work', { capacity: 10 });
      assert.equal(await storageOf(file.names.workStream), StorageType.File);
      // Served before the switch: the workers find the recreated consumer and serve it.
      await workers.serve('work', work, { workers: 4, pollMs: 1000 });
      file.closeInput();
      await file.wait();

      const memory = await coord.stage<WorkItem, WorkResult>('work', {
        capacity: 10,
        storage: 'memory',
      });
      assert.equal(await storageOf(memory.names.workStream), StorageType.Memory);
      const reading = collect(memory.out());
      for (let n = 0; n < 40; n++) await memory.submit({ n });
      memory.closeInput();
      const results = await reading;
      await memory.wait();
      assert.deepEqual(
        values(results)
          .map((r) => r.n)
          .sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
      );
    }, LONG),
  );

  it(
    'rejects a storage other than file or memory with InvalidOptionError, creating nothing',
    withLeakCheck(async () => {
      await using server = await startNatsServer();
      await using coord = await connect({ servers: server.url, name: 'bad' });
      await assert.rejects(
        coord.stage('work', { storage: 'disk' as 'file' }),
        (e: unknown) =>
          e instanceof InvalidOptionError && /storage/.test(e.message) && /disk/.test(e.message),
      );
      const jsm = await jetstreamManager(coord.connection);
      const names: string[] = [];
      for await (const s of jsm.streams.names()) names.push(s);
      assert.deepEqual(names, []);
    }, LONG),
  );

  it(
    'fails a memory stage with ClusterUnavailableError when the server restarts with its items, well before unavailableTimeoutMs',
    withLeakCheck(async () => {
      const first = await startNatsServer({ keepStore: true });
      const { port, storeDir } = first;
      let second: Awaited<ReturnType<typeof startNatsServer>> | undefined;
      try {
        await using coord = await connect({ servers: first.url, name: 'lost' });
        const stage = await coord.stage<WorkItem, WorkResult>('work', {
          capacity: 10,
          storage: 'memory',
          unavailableTimeoutMs: 60_000,
        });
        // No worker: the items wait in the server's memory.
        for (let n = 0; n < 3; n++) await stage.submit({ n });
        const reading = collect(stage.out());
        await first.stop();
        second = await startNatsServer({ port, storeDir });
        const t0 = performance.now();
        await assert.rejects(stage.wait(), (e: unknown) => {
          return e instanceof ClusterUnavailableError && /memory/.test(e.message);
        });
        assert.ok(performance.now() - t0 < 15_000);
        const results = await reading;
        assert.equal(results.length, 3);
        for (const r of results) assert.ok(!r.ok && r.error instanceof ClusterUnavailableError);
        await assert.rejects(stage.submit({ n: 9 }), ClusterUnavailableError);
      } finally {
        await first.stop();
        await second?.stop();
        const { rmSync } = await import('node:fs');
        rmSync(storeDir, { recursive: true, force: true });
      }
    }, LONG),
  );
});
