/**
 * `sluice daemon --detach`: starts the daemon as a background process of its own (a new session,
 * no terminal, stdin from /dev/null, its log in a file) and returns once it answers on its
 * socket, printing its pid, socket and log file, or fails with the daemon's own error line when
 * it could not start (a daemon already listening, an unsafe socket folder, a bad option).
 *
 * The background daemon is this same program run as `sluice daemon … --log-file PATH` plus an
 * internal flag that makes it report readiness on its stdout once it listens and its log file is
 * open, and then leave its stdout and stderr alone, so nothing it does later reaches the terminal.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { defaultLogFile } from './daemon-log.js';

/** The internal flag of the background daemon (hidden from --help). */
export const NOTIFY_READY_FLAG = '--notify-ready';

/** What the background daemon reports on its stdout once it is ready: one JSON line. */
export interface ReadyReport {
  pid: number;
  socket: string;
  logFile: string;
  dashboard: string | null;
}

/** How long `--detach` waits for the daemon to answer before giving up (and stopping it). */
const READY_TIMEOUT_MS = 60_000;

/**
 * The command line of the background daemon: this process's own `daemon …` arguments without
 * `--detach`, with the log file (absolute) and the readiness flag.
 */
export function backgroundArgs(argv: readonly string[], logFile: string): string[] {
  const at = argv.indexOf('daemon', 2);
  const rest = argv.slice(at + 1).filter((a) => a !== '--detach');
  const withoutLog: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--log-file') i++;
    else if (!a.startsWith('--log-file=')) withoutLog.push(a);
  }
  return [
    ...process.execArgv,
    argv[1]!,
    'daemon',
    ...withoutLog,
    '--log-file',
    resolve(logFile),
    NOTIFY_READY_FLAG,
  ];
}

/**
 * Starts the background daemon and waits until it reports ready; resolves with its report.
 * Rejects with the daemon's own error (the `sluice: …` line it wrote) when it exits first, or
 * after READY_TIMEOUT_MS (then it is stopped). Never leaves a child attached to this process.
 */
export function startDetached(
  socketPath: string,
  logFile: string | undefined,
): Promise<ReadyReport> {
  const log = resolve(logFile ?? defaultLogFile(socketPath));
  const child = spawn(process.execPath, backgroundArgs(process.argv, log), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<ReadyReport>((resolvePromise, reject) => {
    let out = '';
    let err = '';
    let settled = false;
    const timer = setTimeout(() => {
      finish(
        new Error(`the daemon did not answer within ${READY_TIMEOUT_MS / 1000} s; see ${log}`),
      );
      child.kill('SIGTERM');
    }, READY_TIMEOUT_MS);
    const finish = (outcome: Error | ReadyReport) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      child.removeAllListeners('exit');
      child.unref();
      if (outcome instanceof Error) reject(outcome);
      else resolvePromise(outcome);
    };
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      try {
        finish(JSON.parse(out.slice(0, nl)) as ReadyReport);
      } catch {
        finish(new Error(`the daemon said something unexpected: ${out.slice(0, nl)}`));
        child.kill('SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.once('error', (e) => finish(new Error(`cannot start the daemon: ${e.message}`)));
    child.once('exit', (code, signal) => {
      // Its stderr may still hold its last words: read them to the end first.
      const report = () => {
        const last = err
          .trim()
          .split('\n')
          .pop()
          ?.replace(/^sluice: /, '');
        finish(
          new Error(last || `the daemon exited before it was ready (${signal ?? `exit ${code}`})`),
        );
      };
      if (child.stderr.readableEnded) report();
      else child.stderr.once('end', report).once('close', report);
    });
  });
}
