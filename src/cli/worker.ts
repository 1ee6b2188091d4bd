/**
 * `sluice worker --servers URL --name NAME --stage STAGE MODULE [--workers N] [--grace DURATION]
 * [--stats-interval DURATION]`:
 * serves one cluster stage with the default export of MODULE (`(item, signal) => result`), until
 * SIGTERM or SIGINT, then stops gracefully: no new items, running ones get the grace to finish,
 * the rest are handed back to the stream for another worker, and it exits 0.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';

interface WorkerFlags {
  servers: string[];
  name: string;
  stage: string;
  workers: number;
  grace?: number;
  statsInterval?: number;
}

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`'${text}' is not a positive integer`);
  }
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`'${text}' is not a duration (examples: 500ms, 2s, 1m)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((s) => s !== '')];
}

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      "serve a cluster stage with a module's default export (stops gracefully on SIGTERM)",
    )
    .argument('<module>', 'a module whose default export is (item, signal) => result')
    .requiredOption('--servers <urls>', 'NATS server URL(s), comma-separated or repeated', collect)
    .requiredOption('--name <name>', "the pipeline name (the coordinator's connect name)")
    .requiredOption('--stage <stage>', 'the stage to serve')
    .option('--workers <n>', 'items run at once', parsePositiveInt, 1)
    .option(
      '--grace <duration>',
      'on stop, time running items get before being handed back (default 5s)',
      parseDuration,
    )
    .option(
      '--stats-interval <duration>',
      'how often it publishes its stats (default 1s)',
      parseDuration,
    )
    .action(async (module: string, flags: WorkerFlags) => {
      const url = pathToFileURL(resolve(module)).href;
      const loaded = (await import(url)) as { default?: unknown };
      const fn = loaded.default;
      if (typeof fn !== 'function') {
        throw new Error(
          `${module} has no default export function (export default async (item, signal) => result)`,
        );
      }
      const { connect } = await import('../cluster/index.js');
      const cluster = await connect({ servers: flags.servers, name: flags.name });
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void (async () => {
          await server.stop(flags.grace === undefined ? undefined : { graceMs: flags.grace });
          await cluster.close();
        })();
      };
      let server: Awaited<ReturnType<typeof cluster.serve>>;
      try {
        server = await cluster.serve(
          flags.stage,
          fn as (item: unknown, signal: AbortSignal) => unknown,
          { workers: flags.workers, graceMs: flags.grace, statsIntervalMs: flags.statsInterval },
        );
      } catch (error) {
        await cluster.close();
        throw error;
      }
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.stderr.write(
        `sluice worker ${server.id}: serving stage ${flags.stage} of ${flags.name} at ${flags.servers.join(',')}, ${flags.workers} at a time\n`,
      );
      await server.done;
      await cluster.close();
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    });
}
