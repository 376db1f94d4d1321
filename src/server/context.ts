import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Session } from '../auth/session-service.js';
import type { UpstreamUrl } from '../config/urls.js';
import type { RouteRuntime, Runtime } from './runtime.js';

/** What one request carries through the pipeline; stages fill it in order. */
export interface RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The runtime current when the request arrived; a reload mid-request does not change it. */
  readonly runtime: Runtime;
  /** Monotonic milliseconds. */
  readonly startedAt: number;
  readonly proto: 'http' | 'https';
  /** Set for WebSocket upgrades: the raw socket and the bytes read past the request head. */
  readonly upgrade: { readonly socket: Duplex; readonly head: Buffer } | undefined;
  /** Filled by accept-request. */
  peerIp: string;
  /** Whether the direct peer is in `trusted_proxies`, so its X-Forwarded-* are believed. */
  peerIsTrusted: boolean;
  clientIp: string;
  hostname: string;
  port: number | undefined;
  /** Normalized path (no query) — the path that is matched, authorized and forwarded. */
  path: string;
  /** Query string without `?`, forwarded verbatim. */
  query: string;
  /** Filled by match-route. */
  route: RouteRuntime | undefined;
  /**
   * Filled by answer-preflight: `answered` when the proxy answered a CORS preflight itself, `forwarded` when
   * Pomerium's `cors_allow_preflight` lets it through to the upstream without a session.
   */
  preflight: 'none' | 'answered' | 'forwarded';
  /** The route whose CORS policy applies to this request's answers, once looked up (see cors-route.ts). */
  corsRoute: RouteRuntime | null | undefined;
  /** Filled by authenticate: the signed-in user's session, when the request carries a valid one. */
  session: Session | undefined;
  /** Filled by prepare-upstream. */
  upstream: UpstreamUrl | undefined;
  upstreamPath: string;
  upstreamHeaders: Record<string, string | string[]>;
}

/** RFC 9110 token-ish characters only, so a propagated id cannot forge log lines or headers. */
const PROPAGATED_ID = /^[A-Za-z0-9._:+/=-]{1,128}$/;

export interface ContextInput {
  req: IncomingMessage;
  res: ServerResponse;
  runtime: Runtime;
  startedAt: number;
  proto: 'http' | 'https';
  upgrade?: { socket: Duplex; head: Buffer };
}

export function createContext(input: ContextInput): RequestContext {
  const incomingId = input.req.headers['x-request-id'];
  return {
    id: typeof incomingId === 'string' && PROPAGATED_ID.test(incomingId) ? incomingId : randomUUID(),
    req: input.req,
    res: input.res,
    runtime: input.runtime,
    startedAt: input.startedAt,
    proto: input.proto,
    upgrade: input.upgrade,
    peerIp: '',
    peerIsTrusted: false,
    clientIp: '',
    hostname: '',
    port: undefined,
    path: '',
    query: '',
    route: undefined,
    preflight: 'none',
    corsRoute: undefined,
    session: undefined,
    upstream: undefined,
    upstreamPath: '',
    upstreamHeaders: {},
  };
}
