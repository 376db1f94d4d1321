/**
 * WebSocket upgrades (RFC 6455 §4) tunnelled to the upstream. The only module that imports http-proxy.
 * Its traps are avoided on purpose: one proxy server for the process, never one per request; an `error`
 * listener always attached (without one http-proxy rethrows and the process dies); `xfwd` off, because it
 * appends whatever X-Forwarded-* the client sent — the caller's plan carries the headers already cleaned.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import type httpProxy from 'http-proxy';
import type { UpstreamUrl } from '../config/urls.js';
import type { GatehouseError } from '../shared/errors.js';
import { toUpstreamError } from './upstream-error.js';

export interface UpgradePlan {
  target: UpstreamUrl;
  /** Normalized and rewritten request path; `target.basePath` is prepended here. */
  path: string;
  /** Without `?`; `''` when there is none. */
  query: string;
  /** From buildUpstreamRequestHeaders (which strips `Connection` and `Upgrade`; they are added back here). */
  headers: Record<string, string | string[]>;
  tlsSkipVerify: boolean;
  tlsCustomCa: string | undefined;
}

export interface WebSocketProxy {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, plan: UpgradePlan): void;
  /** Closes every open tunnel; later upgrades are answered 502. */
  close(): void;
}

/** The handshake fields the upstream needs (RFC 6455 §4.1), taken from the client when the plan lacks them. */
const HANDSHAKE_HEADERS = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
] as const;

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** Options of one `ws()` call; http-proxy hands the same object to its `proxyReqWs` event. */
interface UpgradeCallOptions extends httpProxy.ServerOptions {
  /** Path and query exactly as planned: http-proxy's own URL joining would merge duplicate slashes. */
  upstreamPath: string;
}

/** Client sockets that received an answer (101 or the upstream's refusal): no 502 can follow. */
const answeredSockets = new WeakSet<Duplex>();

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function rejectUpgrade(socket: Duplex): void {
  if (socket.destroyed) return;
  if (answeredSockets.has(socket) || !socket.writable) {
    socket.destroy();
    return;
  }
  answeredSockets.add(socket);
  socket.end(BAD_GATEWAY, () => socket.destroy());
}

function onProxyReqWs(
  proxyReq: ClientRequest,
  _req: IncomingMessage,
  socket: Socket,
  options: httpProxy.ServerOptions,
): void {
  proxyReq.path = (options as UpgradeCallOptions).upstreamPath;
  // A client that leaves during the handshake takes the upstream request with it.
  const abandon = (): void => {
    proxyReq.destroy();
  };
  socket.once('close', abandon);
  proxyReq.once('response', () => {
    socket.off('close', abandon);
    answeredSockets.add(socket);
  });
  proxyReq.once('upgrade', (_res: IncomingMessage, upstreamSocket: Socket) => {
    socket.off('close', abandon);
    answeredSockets.add(socket);
    // http-proxy ends the upstream side on a clean close or an error, not when the client socket is destroyed.
    socket.once('close', () => {
      if (!upstreamSocket.writableEnded) upstreamSocket.destroy();
    });
  });
}

function upgradeHeaders(req: IncomingMessage, plan: UpgradePlan): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    ...plan.headers,
    connection: 'Upgrade',
    upgrade: 'websocket',
  };
  for (const name of HANDSHAKE_HEADERS) {
    const value = req.headers[name];
    if (headers[name] === undefined && value !== undefined) headers[name] = value;
  }
  return headers;
}

function toCallOptions(plan: UpgradePlan): UpgradeCallOptions {
  const { target } = plan;
  const port = Number(target.origin.slice(target.origin.lastIndexOf(':') + 1));
  return {
    target: {
      protocol: target.protocol,
      host: target.servername,
      hostname: target.servername,
      port,
      ...(plan.tlsCustomCa === undefined ? {} : { ca: plan.tlsCustomCa }),
    },
    secure: !plan.tlsSkipVerify,
    // The base of the outgoing request options: SNI from the upstream URL, not from the Host header
    // (which Node would use otherwise); none for an IP literal (RFC 6066 §3).
    ssl: { servername: isIP(target.servername) === 0 ? target.servername : '' },
    upstreamPath: target.basePath + plan.path + (plan.query === '' ? '' : `?${plan.query}`),
  };
}

/**
 * http-proxy is loaded on the first upgrade, not at start: most routes never upgrade, and the module
 * costs about 4 MB of resident memory in every process.
 */
const requireLazily = createRequire(import.meta.url);

export function createWebSocketProxy(
  onError: (error: GatehouseError, req: IncomingMessage) => void,
): WebSocketProxy {
  let proxy: httpProxy | undefined;
  const openSockets = new Set<Duplex>();
  let closed = false;

  const proxyServer = (): httpProxy => {
    if (proxy !== undefined) return proxy;
    const created = (requireLazily('http-proxy') as typeof httpProxy).createProxyServer({
      ws: true,
      xfwd: false,
    });
    created.on('error', (error, req, socketOrResponse) => {
      const socket = socketOrResponse as unknown as Duplex;
      // An error after the client left is the echo of its leaving, not an upstream failure.
      if (socket.destroyed) return;
      rejectUpgrade(socket);
      onError(toUpstreamError(error), req);
    });
    created.on('proxyReqWs', onProxyReqWs);
    proxy = created;
    return created;
  };

  return {
    upgrade(req, socket, head, plan) {
      // Node detaches its own listeners from an upgraded socket; an unhandled 'error' would be fatal.
      socket.on('error', destroyOnError);
      if (closed) {
        rejectUpgrade(socket);
        return;
      }
      openSockets.add(socket);
      socket.once('close', () => openSockets.delete(socket));
      req.headers = upgradeHeaders(req, plan);
      proxyServer().ws(req, socket, head, toCallOptions(plan));
    },
    close() {
      closed = true;
      for (const socket of openSockets) socket.destroy();
      openSockets.clear();
    },
  };
}
