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
  /** Where lines go; stdout (buffered, flushed on exit) by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 });
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
