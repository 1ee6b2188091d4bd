/**
 * The logger shape flow's controllers and reporter write to: pino-compatible, so a pino logger
 * (or any object with `info(obj, msg)`) can be passed as is. Only `info` is required; a missing
 * `warn` falls back to `info`, a missing `debug` drops the record.
 */

/** One log method: a structured object first, a human-readable message second (pino's order). */
export type LogFn = (obj: object, msg?: string) => void;

/** A pino-compatible logger. */
export interface FlowLogger {
  /** Logs at info: pino's `(obj, msg)` order. */
  info: LogFn;
  /** Logs at warn; falls back to `info` when absent. */
  warn?: LogFn;
  /** Logs at debug; dropped when absent. */
  debug?: LogFn;
  /** Logs at error; falls back to `info` when absent. */
  error?: LogFn;
}

/** A logger that drops everything: the default for controllers. */
export const silentLogger: FlowLogger = { info() {} };

/** A minimal writable: what `lineLogger` and the live view need from a stream. */
export interface TextSink {
  /** Writes one chunk of text (a line, with its newline). */
  write(chunk: string): unknown;
}

/**
 * A logger that writes each record's message as one line to `sink` (default `process.stderr`),
 * ignoring the structured object: the Reporter's default when no logger is given.
 */
export function lineLogger(sink: TextSink = process.stderr): FlowLogger {
  const line: LogFn = (obj, msg) => {
    sink.write(`${msg ?? JSON.stringify(obj)}\n`);
  };
  return { info: line, warn: line, error: line };
}

/** Writes at `level`, falling back as described above. Never throws (a throwing logger is ignored). */
export function logAt(
  logger: FlowLogger,
  level: 'info' | 'warn' | 'debug' | 'error',
  obj: object,
  msg: string,
): void {
  let fn: LogFn | undefined;
  if (level === 'debug') fn = logger.debug;
  else if (level === 'info') fn = logger.info;
  else fn = logger[level] ?? logger.info;
  if (!fn) return;
  try {
    fn.call(logger, obj, msg);
  } catch {
    // A broken logger must not stop a control loop.
  }
}
