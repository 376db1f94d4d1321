/**
 * Composition root: config → logger → server, plus the process concerns around them — hot reload on file
 * change and SIGHUP, graceful shutdown on SIGTERM/SIGINT.
 */
import { formatProblem, type ConfigResult } from './config/parse.js';
import { watchConfigFile } from './config/watch.js';
import type { GatehouseConfig } from './config/schema.js';
import { createLogger, flushLogger, type Logger } from './shared/logger.js';
import { createGatehouseServer, type GatehouseServer } from './server/gatehouse-server.js';

export interface ServeOptions {
  /** Reads and validates the config; called at start and on every reload. */
  readonly loadConfig: () => ConfigResult;
  /** The file to watch for changes, when the config comes from one. */
  readonly watchPath?: string;
  /** Called once listening, with the URL to show a person. */
  readonly onListening?: (url: URL) => void;
  /** Releases what the caller started beside Gatehouse (the demo's sample API) when it stops. */
  readonly onStopped?: () => Promise<void>;
}

export interface RunningGatehouse {
  readonly url: URL;
  readonly server: GatehouseServer;
  /** Loads the config again and applies it when valid; an invalid one is logged and the old one kept. */
  reload(): boolean;
  stop(): Promise<void>;
}

/** Thrown when the first config is invalid; the CLI prints `problems` and exits 1. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`the configuration has ${problems.length} problem(s)`);
  }
}

/**
 * Runs Gatehouse as this process's job: reload on file change and SIGHUP, graceful stop and exit on
 * SIGTERM/SIGINT (a second signal exits at once). The signal handlers are in place before the process
 * announces that it listens, so a signal sent right after the announcement is never the default "die".
 */
export async function serve(options: ServeOptions): Promise<RunningGatehouse> {
  const first = options.loadConfig();
  if (!first.ok) throw new InvalidConfigError(first.problems.map(formatProblem));
  const logger = createLogger({ level: first.config.log_level });
  logWarnings(logger, first);
  const server = createGatehouseServer({ config: first.config, logger });

  const reload = (): boolean => {
    const next = options.loadConfig();
    logWarnings(logger, next);
    if (!next.ok) {
      logger.error(
        { problems: next.problems.map(formatProblem) },
        'config reload refused; the previous config stays in effect',
      );
      return false;
    }
    applyConfig(logger, server, next.config);
    return true;
  };
  const onHangup = () => void reload();
  const onSignal = (signal: NodeJS.Signals) => {
    process.once(signal, () => process.exit(130));
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const watcher = options.watchPath === undefined ? undefined : watchConfigFile(options.watchPath, reload);
  const detach = () => {
    process.off('SIGHUP', onHangup);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    watcher?.close();
  };

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      detach();
      logger.info('gatehouse stopping; letting in-flight requests finish');
      await Promise.all([server.close(), options.onStopped?.()]);
      logger.info('gatehouse stopped');
      flushLogger(logger);
    })();
    return stopping;
  };

  process.on('SIGHUP', onHangup);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let url: URL;
  try {
    url = await server.listen();
  } catch (error) {
    detach();
    await server.close();
    flushLogger(logger);
    throw error;
  }
  logger.info({ url: url.href, routes: first.config.routes.length }, 'gatehouse listening');
  options.onListening?.(url);
  return { url, server, reload, stop };
}

function applyConfig(logger: Logger, server: GatehouseServer, config: GatehouseConfig): void {
  server.reload(config);
  logger.level = config.log_level;
  logger.info({ routes: config.routes.length }, 'config reloaded');
}

function logWarnings(logger: Logger, result: ConfigResult): void {
  for (const warning of result.warnings) logger.warn({ config: formatProblem(warning) }, 'config warning');
}
