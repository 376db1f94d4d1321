import { applyCorsHeaders } from '../cors/response-headers.js';
import type { RequestContext } from './context.js';
import { corsRouteOf } from './cors-route.js';
import { applyResponseHeaders, type ResponseHeaders } from './response-headers.js';

/**
 * The edits every response of a request gets, whoever produced it (upstream, endpoint or error
 * renderer): the route's header plan — or the global one outside any route — the request id, and the
 * route's CORS headers on a `cors` route.
 */
export function decorateResponse(ctx: RequestContext, _status: number, headers: ResponseHeaders): void {
  // A preflight is answered before match-route, by the route whose policy answers it (cors-route.ts).
  const route = ctx.route ?? (ctx.preflight === 'answered' ? corsRouteOf(ctx) : undefined);
  applyResponseHeaders(route?.responseHeaders ?? ctx.runtime.responseHeaders, headers);
  headers['x-request-id'] = ctx.id;
  // A preflight the proxy answered carries its own CORS headers (answer-preflight.ts).
  if (ctx.preflight === 'answered' || ctx.hostname === '') return;
  const cors = corsRouteOf(ctx)?.cors;
  if (cors !== undefined) applyCorsHeaders(cors, originOf(ctx), headers);
}

/** The request's `Origin`, when it sent exactly one. */
function originOf(ctx: RequestContext): string | undefined {
  const origin = ctx.req.headers.origin;
  return typeof origin === 'string' ? origin : undefined;
}
