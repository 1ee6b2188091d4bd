/**
 * `startNatsServer`: a private `nats-server -js` for tests, demos and single-machine use, run
 * under sluice's supervisor (its own process group, stopped with SIGTERM then SIGKILL, killed
 * with this process if it dies).
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { DEFAULT_GRACE_MS, type ExitInfo, InvalidOptionError } from '../proc/index.js';
import { type Child, supervise } from '../supervisor/index.js';
import { NatsServerError } from './errors.js';

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /**
   * Port to listen on; 0 picks a free one (nats-server binds it itself, so there is no race).
   * @default 0
   */
  port?: number;
  /**
   * The JetStream store folder. When absent a private one is made under the OS temp dir
   * (`sluice-nats-*`) and removed on stop unless `keepStore` is set. A folder you pass is never
   * removed. Pass the `storeDir` of a stopped server (and its `port`) to start it again with its
   * streams.
   * @default a new private folder
   */
  storeDir?: string;
  /** Keep the private store folder after stop (its path is `storeDir`). @default false */
  keepStore?: boolean;
  /**
   * The nats-server binary. @default `$SLUICE_NATS_SERVER`, else `nats-server` on PATH, else
   * `/usr/sbin/nats-server` or `/usr/local/sbin/nats-server`
   */
  binary?: string;
  /**
   * More arguments for nats-server (for example `['-c', 'nats.conf']`: a configuration file, for
   * `max_payload` and the like).
   * @default []
   */
  args?: readonly string[];
  /**
   * How many cores the server's Go runtime may run on at once (its `GOMAXPROCS`). On a small
   * machine whose cores the workers need, 1 keeps the server from waking threads on every core
   * for each message (about a quarter less server CPU per item here).
   * @default Go's own: `$GOMAXPROCS`, else every core
   */
  maxProcs?: number;
  /** How long to wait for the server to accept connections. @default 10000 */
  startTimeoutMs?: number;
  /** Wait between SIGTERM and SIGKILL on stop. @default DEFAULT_GRACE_MS (5000) */
  graceMs?: number;
  /** Called with each line nats-server logs (it logs to stderr). @default ignored */
  onLog?: (line: string) => void;
}

/** A running nats-server. Stop it with `stop()` or `await using`. */
export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:PORT`: pass it to `connect({ servers })`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The JetStream store folder. */
  readonly storeDir: string;
  /** The server's pid. */
  readonly pid: number;
  /** Settles when the server exits (for any reason). */
  readonly done: Promise<ExitInfo>;
  /**
   * Stops the server (SIGTERM, then SIGKILL after `graceMs`) and removes the private store folder
   * unless `keepStore` was set or the folder was yours. Idempotent; never rejects.
   */
  stop(): Promise<ExitInfo>;
}

const INSTALL_HINT =
  'nats-server not found: install it (Debian/Ubuntu: `apt-get install nats-server`; elsewhere a release binary from https://github.com/nats-io/nats-server/releases) or set SLUICE_NATS_SERVER to its path';

/** Finds the nats-server binary, or undefined. */
export function findNatsServer(binary?: string): string | undefined {
  const candidates: string[] = [];
  if (binary !== undefined) candidates.push(binary);
  else {
    const env = process.env.SLUICE_NATS_SERVER;
    if (env) candidates.push(env);
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir) candidates.push(join(dir, 'nats-server'));
    }
    candidates.push('/usr/sbin/nats-server', '/usr/local/sbin/nats-server');
  }
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return undefined;
}

const LISTENING = /Listening for client connections on [^\s]*:(\d+)/;
const READY = /Server is ready/;

/**
 * Starts `nats-server -js` on 127.0.0.1 and a free port with a private store folder, and
 * resolves once it accepts connections. Rejects with an `InvalidOptionError` for bad options, and
 * with a `NatsServerError` when the binary is missing (one line saying how to install it), when
 * the server exits early (with its last log lines) or does not get ready within
 * `startTimeoutMs`; nothing is left behind then (process stopped, private folder removed).
 *
 * The caller owns the server: `stop()` it or `await using` it. The supervisor kills it if this
 * process dies.
 *
 * @example
 * ```ts
 * import { connect, startNatsServer } from 'sluice/cluster';
 * await using server = await startNatsServer();
 * await using cluster = await connect({ servers: server.url, name: 'thumbnails' });
 * ```
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const { port, startTimeoutMs, graceMs, maxProcs } = checkOptions(options);
  const bin = findNatsServer(options.binary);
  if (bin === undefined) throw new NatsServerError(INSTALL_HINT);

  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'sluice-nats-'));
  const removeStore = () => {
    if (ownStore && options.keepStore !== true) rmSync(storeDir, { recursive: true, force: true });
  };

  const tail: string[] = [];
  let listenPort: number | undefined;
  let onReady: (() => void) | undefined;
  const onLog = options.onLog;
  let child: Child;
  try {
    child = await supervise({
      argv: [
        bin,
        '-js',
        '-sd',
        storeDir,
        '-a',
        '127.0.0.1',
        '-p',
        String(port === 0 ? -1 : port),
        ...(options.args ?? []),
      ],
      graceMs,
      ...(maxProcs === undefined ? {} : { env: { GOMAXPROCS: String(maxProcs) } }),
      eofTimeoutMs: 0,
      onStderr: (line) => {
        if (tail.length >= 20) tail.shift();
        tail.push(line);
        const m = LISTENING.exec(line);
        if (m) listenPort = Number(m[1]);
        if (READY.test(line)) onReady?.();
        onLog?.(line);
      },
    });
  } catch (error) {
    removeStore();
    throw new NatsServerError(
      `sluice/cluster: cannot start ${bin}: ${String((error as Error).message)}`,
      { cause: error },
    );
  }
  child.stdout.resume();

  let timer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    new Promise<'ready'>((resolve) => {
      onReady = () => resolve('ready');
      if (tail.some((l) => READY.test(l))) resolve('ready');
    }),
    child.done.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), startTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (ready !== 'ready' || listenPort === undefined) {
    await child.stop({ graceMs: 0 });
    removeStore();
    const why =
      ready === 'exited' ? 'exited while starting' : `was not ready after ${startTimeoutMs} ms`;
    throw new NatsServerError(`sluice/cluster: nats-server ${why}: ${tail.slice(-5).join(' | ')}`);
  }

  return serverHandle(child, listenPort, storeDir, removeStore);
}

/** Checks the options startNatsServer reads before starting anything; applies the defaults. */
function checkOptions(options: NatsServerOptions): {
  port: number;
  startTimeoutMs: number;
  graceMs: number;
  maxProcs: number | undefined;
} {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'must be an object');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError('port', 'must be an integer from 0 to 65535');
  }
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  if (!Number.isFinite(startTimeoutMs) || startTimeoutMs <= 0) {
    throw new InvalidOptionError('startTimeoutMs', 'must be a positive number');
  }
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isInteger(graceMs) || graceMs < 0) {
    throw new InvalidOptionError('graceMs', 'must be a non-negative integer');
  }
  if (
    options.args !== undefined &&
    !(Array.isArray(options.args) && options.args.every((a) => typeof a === 'string'))
  ) {
    throw new InvalidOptionError('args', 'must be an array of strings');
  }
  const maxProcs = options.maxProcs;
  if (maxProcs !== undefined && !(Number.isSafeInteger(maxProcs) && maxProcs >= 1)) {
    throw new InvalidOptionError('maxProcs', 'must be a positive integer');
  }
  return { port, startTimeoutMs, graceMs, maxProcs };
}

/** The caller's handle on a started server; stopping it once removes the private store. */
function serverHandle(
  child: Child,
  actualPort: number,
  storeDir: string,
  removeStore: () => void,
): NatsServer {
  let stopping: Promise<ExitInfo> | undefined;
  const stop = (): Promise<ExitInfo> => {
    stopping ??= child.stop().then(
      (info) => {
        removeStore();
        return info;
      },
      (error: unknown) => {
        removeStore();
        throw error;
      },
    );
    return stopping;
  };
  return {
    url: `nats://127.0.0.1:${actualPort}`,
    port: actualPort,
    storeDir,
    pid: child.pid,
    done: child.done,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
