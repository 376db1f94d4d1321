import { GatehouseError } from '../../shared/errors.js';
import { matchRoute as findRoute } from '../../routing/match-route.js';
import type { RequestContext } from '../context.js';
import type { StageResult } from '../pipeline.js';

/** First route whose `from` and path matcher fit, in config order; no fallback to any other route. */
export function matchRoute(ctx: RequestContext): StageResult {
  const route = findRoute(ctx.runtime.table, ctx.hostname, ctx.port, ctx.path);
  if (!route) throw new GatehouseError('ERR_ROUTE_NOT_FOUND', 'No route matches this host and path.');
  ctx.route = ctx.runtime.routes[route.index];
  return 'next';
}
