/**
 * The connections to one route's upstreams. The only module that imports undici: one Agent per pool
 * keeps a keep-alive connection pool per upstream origin, and `dispatch` hands requests to it.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type * as Undici from 'undici';

// undici's index also loads fetch, WebSocket, caches and mocks: about 9 MB more resident memory per
// process, which matters when a 100 MB body streams through a proxy that should stay under 150 MB. The
// dispatcher and the connector are all Gatehouse uses; undici declares no exports map, so these module
// paths are reachable (pinned to undici 7 in package.json).
const requireUndici = createRequire(import.meta.url);
const Agent = requireUndici('undici/lib/dispatcher/agent') as typeof Undici.Agent;
const buildConnector = requireUndici('undici/lib/core/connect') as typeof Undici.buildConnector;
import type { UpstreamUrl } from '../config/urls.js';

export interface UpstreamPoolOptions {
  targets: readonly UpstreamUrl[];
  tlsSkipVerify: boolean;
  /** PEM text of the CA certificate(s) that sign the upstream's certificate. */
  tlsCustomCa: string | undefined;
  /** How long the upstream may take to start answering (connecting included); 0 disables. */
  timeoutMs: number;
  /** How long a response body may stall; 0 disables. */
  idleTimeoutMs: number;
}

export interface UpstreamRequest {
  target: UpstreamUrl;
  method: string;
  /** Path and query as sent upstream. */
  path: string;
  headers: Readonly<Record<string, string | string[]>>;
  body: Readable | null;
}

/** undici's dispatch handler protocol (onRequestStart, onResponseStart, onResponseData, …). */
export type UpstreamHandler = Undici.Dispatcher.DispatchHandler;
export type UpstreamController = Undici.Dispatcher.DispatchController;

export interface UpstreamPool {
  /** The next target, round robin. */
  next(): UpstreamUrl;
  /** Sends one request; every outcome, including a synchronous failure, reaches `handler`. */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** Stops taking requests; resolves once the requests in flight have finished. */
  close(): Promise<void>;
}

/** undici waits this long for a connection before giving up when the route sets no timeout. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A TLS connector that sends the upstream URL's host name as SNI and checks the certificate against it.
 * Every request passes that name as `servername` (otherwise undici derives it from the Host header,
 * which is the client's host under `preserve_host_header`); IP literals get no SNI (RFC 6066 §3) and are
 * checked against the address itself.
 */
function createConnector(options: UpstreamPoolOptions): Undici.buildConnector.connector {
  const base = buildConnector({
    rejectUnauthorized: !options.tlsSkipVerify,
    ...(options.tlsCustomCa === undefined ? {} : { ca: options.tlsCustomCa }),
    timeout:
      options.timeoutMs > 0
        ? Math.min(options.timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS)
        : DEFAULT_CONNECT_TIMEOUT_MS,
  });
  return (connectOptions, callback) => {
    const { servername, ...withoutServername } = connectOptions;
    base(servername !== undefined && isIP(servername) !== 0 ? withoutServername : connectOptions, callback);
  };
}

export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const targets = options.targets;
  if (targets.length === 0) throw new TypeError('an upstream pool needs at least one target');
  const agent = new Agent({
    connect: createConnector(options),
    // No pipelining: a slow response would hold up the requests queued behind it.
    pipelining: 1,
    connections: null,
    // Below Node's 5 s server default, so the upstream rarely closes a connection we are about to reuse.
    keepAliveTimeout: 4_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.idleTimeoutMs,
  });
  let nextIndex = 0;

  return {
    next() {
      const target = targets[nextIndex] as UpstreamUrl;
      nextIndex = (nextIndex + 1) % targets.length;
      return target;
    },
    dispatch(request, handler) {
      const dispatchOptions: Undici.Dispatcher.DispatchOptions & { servername: string } = {
        origin: request.target.origin,
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: request.body,
        // Read by undici at runtime, missing from its types: keeps SNI and the connection key per origin.
        servername: request.target.servername,
      };
      agent.dispatch(dispatchOptions, handler);
    },
    async close() {
      await agent.close();
    },
  };
}
