/**
 * Composition root: config → logger → server, plus the process concerns around them — hot reload on file
 * change and SIGHUP, graceful shutdown on SIGTERM/SIGINT, and `workers` processes with node:cluster.
 */
import cluster, { type Worker } from 'node:cluster';
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
  /** The cluster worker id this process serves as; every log line carries it as `worker`. */
  readonly worker?: number;
}

export interface RunningGatehouse {
  readonly url: URL;
  readonly server: GatehouseServer;
  /** Loads the config again and applies it when valid; an invalid one is logged and the old one kept. */
  reload(): Promise<boolean>;
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
  const logger = createLogger({
    level: first.config.log_level,
    ...(options.worker === undefined ? {} : { fields: { worker: options.worker } }),
  });
  logWarnings(logger, first);
  warnAboutInsecureCookies(logger, first.config);
  let server: GatehouseServer;
  try {
    server = await createGatehouseServer({ config: first.config, logger });
  } catch (error) {
    flushLogger(logger);
    throw error;
  }
  let current = first.config;

  const reloadNow = async (): Promise<boolean> => {
    const next = options.loadConfig();
    logWarnings(logger, next);
    if (!next.ok) {
      logger.error(
        { problems: next.problems.map(formatProblem) },
        'config reload refused; the previous config stays in effect',
      );
      return false;
    }
    if (next.config.workers !== current.workers) {
      logger.warn({ workers: current.workers }, 'a change of workers takes effect after a restart');
    }
    warnAboutInsecureCookies(logger, next.config);
    try {
      await server.reload(next.config);
    } catch (error) {
      logger.error({ err: error }, 'config reload failed; the previous config stays in effect');
      return false;
    }
    logger.level = next.config.log_level;
    logger.info({ routes: next.config.routes.length }, 'config reloaded');
    current = next.config;
    return true;
  };
  // One reload at a time, in order: a slow one finishing after a later one would bring back an older file.
  let reloading = Promise.resolve(true);
  const reload = (): Promise<boolean> => (reloading = reloading.then(reloadNow));
  const reloadInBackground = () => void reload();
  const onSignal = (signal: NodeJS.Signals) => {
    process.once(signal, () => process.exit(130));
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const watcher =
    options.watchPath === undefined ? undefined : watchConfigFile(options.watchPath, reloadInBackground);
  const detach = () => {
    process.off('SIGHUP', reloadInBackground);
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

  process.on('SIGHUP', reloadInBackground);
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

/** Deaths of workers within CRASH_WINDOW_MS that make the primary give up instead of replacing them. */
const CRASH_LIMIT = 5;
const CRASH_WINDOW_MS = 10_000;

type ClusterMessage =
  { readonly gatehouse: 'listening'; readonly url: string } | { readonly gatehouse: 'stop' };

function isClusterMessage(message: unknown): message is ClusterMessage {
  return typeof message === 'object' && message !== null && 'gatehouse' in message;
}

/**
 * Runs Gatehouse the way `serve` does, on the config's `workers` processes: with more than one, this
 * process becomes the cluster primary and forks workers that each run `serve` on the same address (node:cluster
 * shares the listening socket). Resolves once every worker listens; rejects with InvalidConfigError before
 * forking anything when the config is invalid, or when a worker dies before it listens.
 */
export async function serveOnWorkers(options: ServeOptions): Promise<void> {
  if (cluster.isWorker) return serveAsWorker(options);
  const first = options.loadConfig();
  if (!first.ok) throw new InvalidConfigError(first.problems.map(formatProblem));
  if (first.config.workers === 1) {
    await serve(options);
    return;
  }
  return servePrimary(options, first.config);
}

/**
 * One worker: a complete single-process Gatehouse (it watches the config file and reloads on SIGHUP
 * itself), which tells the primary when it listens and stops gracefully when the primary asks. The stop
 * comes over IPC rather than as a signal: Ctrl-C already sends SIGINT to every process of the group, and a
 * second signal would mean "exit at once".
 */
async function serveAsWorker(options: ServeOptions): Promise<void> {
  const id = cluster.worker?.id;
  if (id === undefined) throw new TypeError('serveAsWorker runs only in a cluster worker');
  const serving = serve({
    ...options,
    worker: id,
    onListening: (url) => process.send?.({ gatehouse: 'listening', url: url.href } satisfies ClusterMessage),
  });
  process.on('message', (message: unknown) => {
    if (!isClusterMessage(message) || message.gatehouse !== 'stop') return;
    // A worker that failed to start exits through the CLI's error path already.
    serving.then(
      (gatehouse) =>
        gatehouse.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        ),
      () => undefined,
    );
  });
  await serving;
}

/**
 * The primary serves nothing itself: it forks the workers, announces the URL once all of them listen,
 * forwards SIGHUP, replaces workers that die (until they die too often), and on SIGTERM/SIGINT asks every
 * worker to stop and exits when all have.
 */
function servePrimary(options: ServeOptions, config: GatehouseConfig): Promise<void> {
  const logger = createLogger({ level: config.log_level });
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  const deaths: number[] = [];
  let announced = false;
  let stopping = false;
  let failedToStart = false;
  let exitCode = 0;

  const exitWith = (code: number) => {
    flushLogger(logger);
    process.exit(code);
  };
  const fork = () => workers.add(cluster.fork());
  const onHangup = () => {
    // A worker that has not listened yet reads the config as it starts; before then SIGHUP would kill it.
    for (const worker of listening) worker.process.kill('SIGHUP');
  };
  return new Promise<void>((resolve, reject) => {
    const onSignal = () => {
      logger.info({ workers: workers.size }, 'gatehouse stopping; asking every worker to finish');
      stopAll(0);
    };
    const detach = () => {
      process.off('SIGHUP', onHangup);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
    // Called once stopping and the last worker has exited.
    const finish = () => {
      if (failedToStart) {
        flushLogger(logger);
        reject(new Error('a worker exited before it listened (its message is above)'));
        return;
      }
      logger.info('gatehouse stopped');
      exitWith(exitCode);
    };
    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      detach();
      process.once('SIGTERM', () => exitWith(130));
      process.once('SIGINT', () => exitWith(130));
      if (workers.size === 0) finish();
      for (const worker of workers) {
        // One still starting may not listen for messages yet; it has no requests in flight either.
        if (listening.has(worker)) worker.send({ gatehouse: 'stop' } satisfies ClusterMessage);
        else worker.process.kill('SIGTERM');
      }
    };
    const replace = (worker: Worker, code: number | null, signal: string | null) => {
      const now = Date.now();
      deaths.push(now);
      while ((deaths[0] ?? now) <= now - CRASH_WINDOW_MS) deaths.shift();
      if (deaths.length >= CRASH_LIMIT) {
        logger.error({ worker: worker.id, code, signal }, 'workers keep dying; gatehouse gives up');
        process.stderr.write(
          `gatehouse: ${CRASH_LIMIT} workers died within ${CRASH_WINDOW_MS / 1000} s; stopping (see the log)\n`,
        );
        stopAll(1);
        return;
      }
      fork();
      logger.warn({ worker: worker.id, code, signal }, 'worker died; started a replacement');
    };

    cluster.on('message', (worker, message: unknown) => {
      if (!isClusterMessage(message) || message.gatehouse !== 'listening') return;
      listening.add(worker);
      if (announced || listening.size < config.workers) return;
      announced = true;
      logger.info({ url: message.url, workers: config.workers }, 'gatehouse listening on every worker');
      options.onListening?.(new URL(message.url));
      resolve();
    });
    cluster.on('exit', (worker, code, signal) => {
      workers.delete(worker);
      listening.delete(worker);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (workers.size === 0) finish();
      } else if (!announced) {
        failedToStart = true;
        logger.error({ worker: worker.id, code, signal }, 'a worker exited before it listened');
        stopAll(1);
      } else {
        replace(worker, code, signal);
      }
    });

    process.on('SIGHUP', onHangup);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    for (let i = 0; i < config.workers; i += 1) fork();
  });
}

/** DESIGN 2: `cookie_secure: false` is for development only, and says so at every start and reload. */
function warnAboutInsecureCookies(logger: Logger, config: GatehouseConfig): void {
  if (config.cookie_secure) return;
  logger.warn(
    'cookie_secure is false: session cookies also travel over plain http; use this only in development',
  );
}

function logWarnings(logger: Logger, result: ConfigResult): void {
  for (const warning of result.warnings) logger.warn({ config: formatProblem(warning) }, 'config warning');
}
