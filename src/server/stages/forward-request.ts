import { GatehouseError } from '../../shared/errors.js';
import { forward } from '../../proxy/forward.js';
import type { WebSocketProxy } from '../../proxy/upgrade.js';
import type { RequestContext } from '../context.js';
import { decorateResponse } from '../decorate-response.js';
import type { Stage, StageResult } from '../pipeline.js';

/**
 * Sends the prepared request upstream and streams the answer back; WebSocket upgrades go through the
 * process's one WebSocket proxy after the same stages as any request.
 */
export function forwardRequest(webSockets: WebSocketProxy): Stage {
  return async (ctx: RequestContext): Promise<StageResult> => {
    const routeRuntime = ctx.route;
    const target = ctx.upstream;
    const pool = routeRuntime?.pool;
    if (!routeRuntime || !target || !pool) throw new TypeError('forwardRequest runs after prepareUpstream');
    const { config } = routeRuntime.route;

    if (ctx.upgrade) {
      if (!config.allow_websockets) {
        throw new GatehouseError(
          'ERR_WEBSOCKETS_NOT_ALLOWED',
          'WebSocket connections are not allowed on this route.',
        );
      }
      webSockets.upgrade(ctx.req, ctx.upgrade.socket, ctx.upgrade.head, {
        target,
        path: ctx.upstreamPath,
        query: ctx.query,
        headers: ctx.upstreamHeaders,
        tlsSkipVerify: config.tls_skip_verify,
        tlsCustomCa: config.tls_custom_ca,
      });
      return 'done';
    }

    const result = await forward(ctx.req, ctx.res, {
      pool,
      target,
      path: ctx.upstreamPath,
      query: ctx.query,
      headers: ctx.upstreamHeaders,
      idleTimeoutMs: routeRuntime.idleTimeoutMs,
      decorateResponse: (status, headers) => decorateResponse(ctx, status, headers),
    });
    // The upstream failed after its answer had started: the client's response is already cut; thrown so
    // the pipeline logs it like every other failure.
    if (result.error !== undefined) throw result.error;
    return 'done';
  };
}
