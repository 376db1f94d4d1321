import { answerPreflight as decidePreflight, isPreflight } from '../../cors/preflight.js';
import type { RequestContext } from '../context.js';
import { corsRouteOf } from '../cors-route.js';
import { decorateResponse } from '../decorate-response.js';
import type { StageResult } from '../pipeline.js';
import type { ResponseHeaders } from '../response-headers.js';

/** A header sent once; a repeated `Origin` or request method is no preflight a browser makes. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * CORS preflights (DESIGN 5, rule 1), before Gatehouse's own endpoints and before authentication — browsers
 * send no credentials on them. On a route with a `cors` policy the proxy answers: 204 with the validated
 * headers, or 403 without any `Access-Control-*` header; never a redirect, never forwarded. On a route with
 * Pomerium's `cors_allow_preflight` the preflight goes on to the upstream without a session. Anything else,
 * including an `OPTIONS` that is not a preflight, is an ordinary request.
 */
export function answerPreflight(ctx: RequestContext): StageResult {
  const { req } = ctx;
  if (req.method !== 'OPTIONS') return 'next';
  const origin = single(req.headers.origin);
  const requestMethod = single(req.headers['access-control-request-method']);
  if (
    origin === undefined ||
    requestMethod === undefined ||
    !isPreflight(req.method, origin, requestMethod)
  ) {
    return 'next';
  }
  const route = corsRouteOf(ctx);
  if (route?.cors === undefined) {
    if (route?.corsAllowPreflight === true) ctx.preflight = 'forwarded';
    return 'next';
  }
  const answer = decidePreflight(route.cors, {
    origin,
    requestMethod,
    requestHeaders: req.headers['access-control-request-headers'],
    requestPrivateNetwork: single(req.headers['access-control-request-private-network']),
  });
  ctx.preflight = 'answered';
  const status = answer.allowed ? 204 : 403;
  const headers: ResponseHeaders = { 'content-length': '0' };
  decorateResponse(ctx, status, headers);
  // The policy owns Access-Control-* on its route (DESIGN 5, rule 6): none from set_response_headers.
  for (const name of Object.keys(headers)) if (name.startsWith('access-control-')) delete headers[name];
  Object.assign(headers, answer.headers);
  ctx.res.writeHead(status, headers);
  ctx.res.end();
  return 'done';
}
