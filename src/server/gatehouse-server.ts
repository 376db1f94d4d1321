import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseListenAddress } from '../config/address.js';
import type { GatehouseConfig } from '../config/schema.js';
import { createWebSocketProxy } from '../proxy/upgrade.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { toGatehouseError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { logAccess, logFailure } from './access-log.js';
import { answerClientError } from './client-error.js';
import { createContext, type RequestContext } from './context.js';
import { createEndpointApp } from './endpoints/endpoint-app.js';
import { healthEndpoints } from './endpoints/health.js';
import { createPipeline } from './pipeline.js';
import { createStore } from '../store/create-store.js';
import type { KvStore } from '../store/kv-store.js';
import { signInEndpoints } from './endpoints/sign-in.js';
import { signOutEndpoints } from './endpoints/sign-out.js';
import { userEndpoints } from './endpoints/user.js';
import { buildRuntime, type Runtime, type RuntimeServices } from './runtime.js';

export interface GatehouseServerOptions {
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How long `close()` lets in-flight requests finish before cutting them. */
  readonly shutdownGraceMs?: number;
}

export interface GatehouseServer {
  /** Starts listening on the config's `address`; resolves with the URL it can be reached at. */
  listen(): Promise<URL>;
  /**
   * Applies a new config to new requests once its runtime is built (the IdP client, the session
   * service); requests in flight finish on the old one. Rejects, keeping the old config, when it cannot be
   * built.
   */
  reload(config: GatehouseConfig): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), releases everything. */
  close(): Promise<void>;
  readonly runtime: Runtime;
}

/** Node's limit; a larger header block is answered 431 by `client-error.ts`. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Builds the first runtime (opening the session store when a route needs sign-in: an unreachable Redis
 * rejects with ERR_STORE_UNAVAILABLE) and the server around it; `listen()` starts serving.
 */
export async function createGatehouseServer(options: GatehouseServerOptions): Promise<GatehouseServer> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const services = processServices(options.config, logger, clock);
  let runtime: Runtime;
  try {
    runtime = await buildRuntime(options.config, services);
  } catch (error) {
    await services.close();
    throw error;
  }
  const tls = !options.config.insecure_server;
  const proto = tls ? 'https' : 'http';
  const active = new Set<RequestContext>();

  const webSockets = createWebSocketProxy((error, req) =>
    logger.warn({ err: error, code: error.code, path: req.url?.split('?')[0] }, 'websocket upstream failed'),
  );
  const pipeline = createPipeline({
    endpoints: createEndpointApp([
      ...healthEndpoints,
      ...signInEndpoints,
      ...signOutEndpoints,
      ...userEndpoints,
    ]),
    webSockets,
    onError: (ctx, error) => logFailure(logger, ctx, toGatehouseError(error)),
  });

  const serverOptions: http.ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    // Long uploads and downloads are bounded by the route's idle_timeout, not by a whole-request clock.
    requestTimeout: 0,
    // Answered by accept-request with Gatehouse's own 400, not Node's bare one.
    requireHostHeader: false,
  };
  const server = tls
    ? https.createServer({ ...serverOptions, ...tlsOptions(options.config) })
    : http.createServer(serverOptions);

  function begin(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }) {
    const ctx = createContext({
      req,
      res,
      runtime,
      startedAt: clock.monotonic(),
      proto,
      ...(upgrade ? { upgrade } : {}),
    });
    active.add(ctx);
    const socket = req.socket;
    const bytesBefore = socket.bytesWritten;
    const done = () => {
      active.delete(ctx);
      logAccess(logger, ctx, clock.monotonic() - ctx.startedAt, socket.bytesWritten - bytesBefore);
    };
    if (upgrade) upgrade.socket.once('close', done);
    else res.once('close', done);
    void pipeline(ctx);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => begin(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A ServerResponse bound to the raw socket lets refusals (404, 403, 401 later) use the same renderer.
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    begin(req, res, { socket, head });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(error, socket, runtime, logger);
  });

  return {
    get runtime() {
      return runtime;
    },
    listen: () =>
      new Promise<URL>((resolve, reject) => {
        const { host, port } = parseListenAddress(options.config.address, options.config.insecure_server);
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve(
            new URL(`${proto}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}/`),
          );
        });
      }),
    async reload(config) {
      const previous = runtime;
      services.warnAboutRestartOnlyChanges(config);
      runtime = await buildRuntime(config, services);
      if (tls) (server as https.Server).setSecureContext(tlsOptions(config));
      if (
        config.address !== previous.config.address ||
        config.insecure_server !== previous.config.insecure_server
      ) {
        logger.warn('address and insecure_server changes take effect after a restart');
      }
      previous
        .close()
        .catch((error: unknown) => logger.error({ err: error }, 'closing the old upstream pools failed'));
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = options.shutdownGraceMs ?? 10_000;
      const deadline = clock.monotonic() + grace;
      while (active.size > 0 && clock.monotonic() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      server.closeAllConnections();
      // Upgraded WebSocket sockets no longer belong to the HTTP server; cut the ones still open.
      for (const ctx of active) ctx.upgrade?.socket.destroy();
      webSockets.close();
      await Promise.all([closed, runtime.close()]);
      await services.close();
    },
  };
}

/**
 * The parts of a runtime that live as long as the process: the session store, opened when a config first
 * needs it, from the settings of that config. A reload cannot move sessions to another store.
 */
function processServices(
  first: GatehouseConfig,
  logger: Logger,
  clock: Clock,
): RuntimeServices & { warnAboutRestartOnlyChanges(config: GatehouseConfig): void; close(): Promise<void> } {
  let opening: Promise<KvStore> | undefined;
  let settings = storeSettingsOf(first);
  return {
    clock,
    logger,
    openStore() {
      opening ??= createStore({
        type: first.databroker_storage_type,
        ...(first.databroker_storage_connection_string === undefined
          ? {}
          : { connectionString: first.databroker_storage_connection_string }),
        keyPrefix: first.databroker_storage_key_prefix,
        clock,
        onConnectionError: (error) => logger.warn({ err: error }, 'session store connection problem'),
      });
      // A store that could not be opened is tried again by the next runtime (a reload) rather than never.
      opening.catch(() => {
        opening = undefined;
      });
      return opening;
    },
    warnAboutRestartOnlyChanges(config) {
      const next = storeSettingsOf(config);
      if (opening !== undefined && next !== settings) {
        logger.warn('databroker_storage_* changes take effect after a restart; sessions stay where they are');
      }
      settings = next;
    },
    async close() {
      const store = await opening?.catch(() => undefined);
      await store?.close();
    },
  };
}

function storeSettingsOf(config: GatehouseConfig): string {
  return JSON.stringify([
    config.databroker_storage_type,
    config.databroker_storage_connection_string,
    config.databroker_storage_key_prefix,
  ]);
}

function tlsOptions(config: GatehouseConfig): { cert: string; key: string } {
  if (config.certificate === undefined || config.certificate_key === undefined) {
    throw new TypeError('a TLS server needs certificate and certificate_key (validated at load)');
  }
  return { cert: config.certificate, key: config.certificate_key };
}
