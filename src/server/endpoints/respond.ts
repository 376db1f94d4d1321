import type { RequestContext } from '../context.js';
import { decorateResponse } from '../decorate-response.js';
import type { ResponseHeaders } from '../response-headers.js';

/** Writes one complete answer from an endpoint, with the same header edits as every other response. */
export function respond(
  ctx: RequestContext,
  status: number,
  contentType: string,
  body: string,
  extra: ResponseHeaders = {},
): void {
  const headers: ResponseHeaders = {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...extra,
  };
  decorateResponse(ctx, status, headers);
  ctx.res.writeHead(status, headers);
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

export function respondJson(
  ctx: RequestContext,
  status: number,
  body: unknown,
  extra: ResponseHeaders = {},
): void {
  respond(ctx, status, 'application/json; charset=utf-8', JSON.stringify(body), extra);
}

/** A 302 (RFC 9110 §15.4.3) to `location`, setting `cookies`; never cached, for it carries session state. */
export function redirectTo(ctx: RequestContext, location: string, cookies: readonly string[] = []): void {
  respond(ctx, 302, 'text/plain; charset=utf-8', '', {
    location,
    ...(cookies.length === 0 ? {} : { 'set-cookie': [...cookies] }),
  });
}
