import { GatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';
import { decorateResponse } from '../decorate-response.js';
import type { StageResult } from '../pipeline.js';

/**
 * Answers a `to: file:///dir` route from its directory (proxy/static-files.ts), with the route's rewritten
 * path and the same response decoration as an upstream answer; other routes go on to their upstream.
 * Runs after authorization, so a protected route's files need a session like any upstream.
 */
export async function serveStaticFiles(ctx: RequestContext): Promise<StageResult> {
  const routeRuntime = ctx.route;
  if (!routeRuntime) throw new TypeError('serveStaticFiles runs after matchRoute');
  const files = routeRuntime.staticFiles;
  if (files === undefined) return 'next';
  if (ctx.upgrade) {
    throw new GatehouseError(
      'ERR_WEBSOCKETS_NOT_ALLOWED',
      'WebSocket connections are not allowed on this route.',
    );
  }
  ctx.upstreamPath = routeRuntime.route.rewritePath(ctx.path);
  const result = await files.serve(ctx.req, ctx.res, {
    path: ctx.upstreamPath,
    decorateResponse: (status, headers) => decorateResponse(ctx, status, headers),
  });
  // A read failure after the answer had started: the response is already cut; thrown to be logged.
  if (result.error !== undefined) throw result.error;
  return 'done';
}
