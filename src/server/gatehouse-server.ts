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
import { buildRuntime, type Runtime } from './runtime.js';

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
  /** Applies a new config to new requests; requests in flight finish on the old one. */
  reload(config: GatehouseConfig): void;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), releases everything. */
  close(): Promise<void>;
  readonly runtime: Runtime;
}

/** Node's limit; a larger header block is answered 431 by `client-error.ts`. */
const MAX_HEADER_BYTES = 16 * 1024;

export function createGatehouseServer(options: GatehouseServerOptions): GatehouseServer {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  let runtime = buildRuntime(options.config);
  const tls = !options.config.insecure_server;
  const proto = tls ? 'https' : 'http';
  const active = new Set<RequestContext>();

  const webSockets = createWebSocketProxy((error, req) =>
    logger.warn({ err: error, code: error.code, path: req.url?.split('?')[0] }, 'websocket upstream failed'),
  );
  const pipeline = createPipeline({
    endpoints: createEndpointApp(healthEndpoints),
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
    reload(config) {
      const previous = runtime;
      runtime = buildRuntime(config);
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
    },
  };
}

function tlsOptions(config: GatehouseConfig): { cert: string; key: string } {
  if (config.certificate === undefined || config.certificate_key === undefined) {
    throw new TypeError('a TLS server needs certificate and certificate_key (validated at load)');
  }
  return { cert: config.certificate, key: config.certificate_key };
}
