import { buildUpstreamRequestHeaders } from '../../proxy/request-headers.js';
import type { RequestContext } from '../context.js';
import type { StageResult } from '../pipeline.js';

/**
 * Picks the upstream (round robin), rewrites the path, and builds the request headers the upstream will
 * see: hop-by-hop and spoofable identity headers removed, forwarding headers written by the proxy.
 */
export function prepareUpstream(ctx: RequestContext): StageResult {
  const routeRuntime = ctx.route;
  if (!routeRuntime) throw new TypeError('prepareUpstream runs after matchRoute');
  const { route, pool } = routeRuntime;
  const { config } = route;
  const target = pool.next();
  const incomingHost = ctx.req.headers.host ?? ctx.hostname;
  ctx.upstream = target;
  ctx.upstreamPath = route.rewritePath(ctx.path);
  ctx.upstreamHeaders = buildUpstreamRequestHeaders({
    rawHeaders: ctx.req.rawHeaders,
    peerIp: ctx.peerIp,
    peerIsTrusted: ctx.peerIsTrusted,
    proto: ctx.proto,
    host: incomingHost,
    requestId: ctx.id,
    hostHeader: config.preserve_host_header ? incomingHost : (config.host_rewrite ?? target.host),
    set: config.set_request_headers,
    remove: config.remove_request_headers,
  });
  return 'next';
}
