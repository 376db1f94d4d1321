/**
 * The one importer of pino. Logs are JSON lines on stdout; access lines and event lines share the stream.
 * Callers pass structured fields, never whole requests, so secrets (cookies, tokens, query strings) are
 * only logged where a caller names them on purpose — and none does.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * Lines are gathered up to 8 KiB and written with one synchronous write, at the latest every 250 ms.
 * Measured under load (bench/README.md): sonic-boom's asynchronous mode re-measures its growing buffer on
 * every line while a write is in flight and hands each write to the thread pool, which cost more per
 * request than the whole routing pipeline.
 */
const STDOUT = { dest: 1, sync: true, minLength: 8192, periodicFlush: 250 } as const;

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination(STDOUT);
  return pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Writes any buffered lines; called before the process exits. */
export function flushLogger(logger: Logger): void {
  logger.flush();
}
