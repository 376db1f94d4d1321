import type { RequestContext } from './context.js';
import { applyResponseHeaders, type ResponseHeaders } from './response-headers.js';

/**
 * The edits every response of a request gets, whoever produced it (upstream, endpoint or error
 * renderer): the route's header plan — or the global one outside any route — and the request id.
 */
export function decorateResponse(ctx: RequestContext, _status: number, headers: ResponseHeaders): void {
  applyResponseHeaders(ctx.route?.responseHeaders ?? ctx.runtime.responseHeaders, headers);
  headers['x-request-id'] = ctx.id;
}
