/** `startNatsServer`: a private nats-server under the supervisor, and nothing left after it. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  connect,
  findNatsServer,
  NatsServerError,
  startNatsServer,
} from '../../src/cluster/index.js';
import { InvalidOptionError } from '../../src/proc/index.js';
import { withLeakCheck } from '../helpers/leaks.js';

describe('startNatsServer', () => {
  it('finds the nats-server binary (the tests need it: CI installs it)', () => {
    assert.ok(findNatsServer(), 'nats-server must be installed for the cluster tests');
  });

  it(
    'runs on 127.0.0.1 and a free port with a private store, removed on dispose',
    withLeakCheck(async () => {
      let storeDir: string;
      let pid: number;
      {
        await using server = await startNatsServer();
        assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
        assert.ok(server.port > 0);
        assert.ok(existsSync(server.storeDir));
        storeDir = server.storeDir;
        pid = server.pid;
        await using cluster = await connect({ servers: server.url, name: 'probe' });
        const info = cluster.connection.info;
        assert.equal(info?.jetstream, true);
      }
      assert.equal(existsSync(storeDir), false, 'private store removed');
      assert.throws(() => process.kill(pid, 0), /ESRCH/);
    }),
  );

  it(
    'two servers get two ports; keepStore keeps the folder; a folder of yours is never removed',
    withLeakCheck(async () => {
      const mine = mkdtempSync(join(tmpdir(), 'sluice-test-store-'));
      try {
        const a = await startNatsServer({ keepStore: true });
        const b = await startNatsServer({ storeDir: mine });
        try {
          assert.notEqual(a.port, b.port);
          assert.equal(b.storeDir, mine);
        } finally {
          await a.stop();
          await b.stop();
        }
        assert.ok(existsSync(a.storeDir));
        assert.ok(existsSync(mine));
        rmSync(a.storeDir, { recursive: true, force: true });
        // stop() is idempotent.
        await a.stop();
      } finally {
        rmSync(mine, { recursive: true, force: true });
      }
    }),
  );

  it(
    'fails with one line saying how to install nats-server when the binary is missing',
    withLeakCheck(async () => {
      await assert.rejects(
        startNatsServer({ binary: '/nonexistent/nats-server' }),
        (e: unknown) => {
          assert.ok(e instanceof NatsServerError);
          assert.equal(e.code, 'ERR_SLUICE_CLUSTER_NATS_SERVER');
          assert.doesNotMatch(e.message, /\n/);
          assert.match(e.message, /apt-get install nats-server/);
          assert.match(e.message, /releases/);
          return true;
        },
      );
    }),
  );

  it(
    "reports an early exit with the server's own words, leaving nothing behind",
    withLeakCheck(async () => {
      await assert.rejects(
        startNatsServer({ args: ['--no-such-flag'] }),
        (e: unknown) => e instanceof NatsServerError && /exited while starting/.test(e.message),
      );
    }),
  );

  it('refuses bad options with InvalidOptionError', async () => {
    await assert.rejects(startNatsServer({ port: -1 }), InvalidOptionError);
    await assert.rejects(startNatsServer({ port: 1.5 }), /port/);
    await assert.rejects(startNatsServer({ startTimeoutMs: 0 }), /startTimeoutMs/);
    await assert.rejects(startNatsServer({ args: [1 as unknown as string] }), /args/);
    await assert.rejects(startNatsServer({ maxProcs: 0 }), /maxProcs/);
    await assert.rejects(startNatsServer({ maxProcs: 1.5 }), InvalidOptionError);
  });

  it(
    "maxProcs becomes the server's GOMAXPROCS",
    withLeakCheck(async () => {
      await using server = await startNatsServer({ maxProcs: 1 });
      const env = readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');
      assert.ok(env.includes('GOMAXPROCS=1'), 'GOMAXPROCS=1 in the server environment');
      await using cluster = await connect({ servers: server.url, name: 'probe' });
      assert.equal(cluster.connection.info?.jetstream, true);
    }),
  );
});
