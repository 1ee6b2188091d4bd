/**
 * Where `sluice daemon` writes its log: stderr in the foreground, or a file (`--log-file`, and
 * always with `--detach`, so a background daemon never writes into the terminal it came from).
 *
 * The file is opened once the daemon has claimed its socket (its folder is then known to be this
 * user's), appended to, created mode 0600, and never followed through a symbolic link; the lines
 * logged before it opened are written to it first. Each line is written synchronously, so the
 * last lines before an exit are never lost.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';

/** The default log file of a detached daemon: the socket path with `.log` for `.sock`. */
export function defaultLogFile(socketPath: string): string {
  return socketPath.endsWith('.sock') ? `${socketPath.slice(0, -5)}.log` : `${socketPath}.log`;
}

/**
 * One daemon's log: timestamped lines to stderr until `toFile` switches it to a file. A failed
 * write (a closed terminal, a full disk) is dropped, never an error that stops the daemon.
 */
export class DaemonLog {
  #fd: number | undefined;
  #pending: string[] = [];
  #toStderr: boolean;
  #stderrOk = true;

  /** `toStderr` false: keep lines until `toFile` (the log goes to a file from the start). */
  constructor(toStderr: boolean) {
    this.#toStderr = toStderr;
    // stderr may go away under us (a closed terminal, a dead pipe reader): from then on nothing
    // more is written to it.
    process.stderr.on('error', () => {
      this.#stderrOk = false;
    });
  }

  /** Logs one line, prefixed with the time and `sluice daemon:`. */
  line(text: string): void {
    this.raw(`${new Date().toISOString()} sluice daemon: ${text}\n`);
  }

  /** Logs text as it is (a stack trace). */
  raw(text: string): void {
    if (this.#fd !== undefined) {
      try {
        writeSync(this.#fd, text);
      } catch {
        // a full disk: the line is lost, the daemon goes on
      }
    } else if (this.#toStderr) {
      if (this.#stderrOk) process.stderr.write(text);
    } else this.#pending.push(text);
  }

  /**
   * Sends every later line to `path` (appended; created 0600; a symbolic link is refused) after
   * the lines kept so far. Throws the system error when the file cannot be opened.
   */
  toFile(path: string): void {
    this.#fd = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
    for (const text of this.#pending.splice(0)) this.raw(text);
  }

  /** Stops writing to stderr (a detached daemon, once its parent has gone). */
  leaveStderr(): void {
    this.#toStderr = false;
  }

  /** Closes the file, if any. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
