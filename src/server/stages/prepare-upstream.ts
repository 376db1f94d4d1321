import { isGatehouseAuthorization } from '../../auth/credentials.js';
import { removeCookie } from '../../auth/session-cookie.js';
import { buildUpstreamRequestHeaders, type UpstreamHeaders } from '../../proxy/request-headers.js';
import type { UpstreamUrl } from '../../config/urls.js';
import type { CompiledRoute } from '../../routing/compile-routes.js';
import type { RequestContext } from '../context.js';
import type { StageResult } from '../pipeline.js';

/**
 * Picks the upstream (round robin), rewrites the path, and builds the request headers the upstream will
 * see: hop-by-hop and spoofable identity headers removed, forwarding headers written by the proxy, and
 * Gatehouse's own credentials taken out — on public routes too, where a signed-in user's cookie still
 * arrives. On a `dynamic_upstream` route the upstream is the one the request names, checked and resolved
 * first (dynamic-upstream.ts), and the headers that name it are not forwarded.
 */
export function prepareUpstream(ctx: RequestContext): StageResult | Promise<StageResult> {
  const routeRuntime = ctx.route;
  if (!routeRuntime) throw new TypeError('prepareUpstream runs after matchRoute');
  const { route, pool } = routeRuntime;
  if (!pool) throw new TypeError('prepareUpstream runs on routes with upstreams; files are served before');
  const dynamic = routeRuntime.dynamicUpstream;
  if (dynamic !== undefined) {
    return dynamic
      .resolveTarget(ctx.req.headers)
      .then((target) => prepareRequest(ctx, route, target, dynamic.targetHeaders));
  }
  return prepareRequest(ctx, route, pool.next(), []);
}

function prepareRequest(
  ctx: RequestContext,
  route: CompiledRoute,
  target: UpstreamUrl,
  alsoRemove: readonly string[],
): StageResult {
  const { config } = route;
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
    remove:
      alsoRemove.length === 0
        ? config.remove_request_headers
        : [...config.remove_request_headers, ...alsoRemove],
  });
  removeSessionCredentials(ctx.upstreamHeaders, ctx.runtime.config.cookie_name);
  return 'next';
}

/**
 * DESIGN 3: the session cookie is cut out of `Cookie` (other cookies stay, byte for byte) and a Gatehouse
 * `Authorization` is dropped; `X-Pomerium-Authorization` never gets here (every `X-Pomerium-*` is removed
 * with the spoofable headers). A plain `Authorization: Bearer` belongs to the upstream and stays.
 */
function removeSessionCredentials(headers: UpstreamHeaders, cookieName: string): void {
  const cookie = headers.cookie;
  if (cookie !== undefined) {
    const kept = removeCookie(Array.isArray(cookie) ? cookie.join('; ') : cookie, [cookieName]);
    if (kept === undefined) delete headers.cookie;
    else headers.cookie = kept;
  }
  const authorization = headers.authorization;
  if (authorization === undefined) return;
  const values = Array.isArray(authorization) ? authorization : [authorization];
  if (values.some(isGatehouseAuthorization)) delete headers.authorization;
}
