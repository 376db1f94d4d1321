import { matchHost, matchRoute } from '../routing/match-route.js';
import type { RequestContext } from './context.js';
import type { RouteRuntime } from './runtime.js';

/**
 * The route whose CORS policy governs this request's answers: the matched route, or — for Gatehouse's own
 * endpoints and a 404 on a known host, which no route matched — the route that would match the path, else
 * the host's first route. So an SPA on another origin can read `/.pomerium/user` and the 401 that tells it
 * to sign in (DESIGN 4.2). Looked up once per request, and only for answers the proxy makes itself.
 */
export function corsRouteOf(ctx: RequestContext): RouteRuntime | undefined {
  if (ctx.route !== undefined) return ctx.route;
  if (ctx.corsRoute === undefined) {
    const { table, routes } = ctx.runtime;
    const compiled =
      matchRoute(table, ctx.hostname, ctx.port, ctx.path) ?? matchHost(table, ctx.hostname, ctx.port);
    ctx.corsRoute = compiled === undefined ? null : (routes[compiled.index] ?? null);
  }
  return ctx.corsRoute ?? undefined;
}
