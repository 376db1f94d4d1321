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
  /** Fields every line carries, right after `time` (a cluster worker's `worker` id). */
  fields?: Readonly<Record<string, string | number>>;
}

/**
 * Whole lines are gathered and written with one synchronous write once 2 KiB are waiting, at the latest
 * every 250 ms. Measured under load: sonic-boom's asynchronous mode re-measures its growing buffer on every
 * line while a write is in flight and hands each write to the thread pool, which cost more per request than
 * the whole routing pipeline. No write exceeds 4 KiB (`maxWrite`): POSIX keeps pipe writes up to PIPE_BUF
 * (4096 bytes on Linux) in one piece, so the lines of several `workers` sharing stdout never interleave.
 */
const STDOUT = { dest: 1, sync: true, minLength: 2048, maxWrite: 4096, periodicFlush: 250 } as const;

let cachedMs = 0;
let cachedIso = '';
/** `new Date().toISOString()`, computed once per millisecond however many lines share it. */
function isoNow(): string {
  const now = Date.now();
  if (now !== cachedMs) {
    cachedMs = now;
    cachedIso = new Date(now).toISOString();
  }
  return cachedIso;
}

/** Each logger's destination and serialized `fields`, for lines written around pino's serializer. */
const destinations = new WeakMap<Logger, { stream: DestinationStream; fields: string }>();

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination(STDOUT);
  const logger = pino(
    {
      level: options.level,
      base: options.fields ?? null,
      timestamp: () => `,"time":"${isoNow()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const fields = Object.entries(options.fields ?? {})
    .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)},`)
    .join('');
  destinations.set(logger, { stream: destination, fields });
  return logger;
}

/**
 * Writes one info line from fields the caller already serialized (`"a":1,"b":"x"`), framed exactly like
 * pino's own lines and in order with them. For the access log: written once per request, it is cheaper
 * from a fixed template than through pino's generic serializer.
 */
export function writeInfoFields(logger: Logger, message: string, serializedFields: string): void {
  const destination = destinations.get(logger);
  if (destination === undefined) throw new TypeError('writeInfoFields needs a logger from createLogger');
  if (!logger.isLevelEnabled('info')) return;
  destination.stream.write(
    `{"level":"info","time":"${isoNow()}",${destination.fields}${serializedFields},"msg":${JSON.stringify(message)}}\n`,
  );
}

/** Writes any buffered lines; called before the process exits. */
export function flushLogger(logger: Logger): void {
  logger.flush();
}
