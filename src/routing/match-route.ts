/**
 * Picks the route for a request: the first, in config order, whose host and path both match. No match
 * is an answer of its own (404); there is no fallback route.
 */
import type { CompiledRoute, RouteTable } from './compile-routes.js';

/** `hostname` and `port` as `parseHostHeader` returns them; `path` as `normalizeRequestTarget` does. */
export function matchRoute(
  table: RouteTable,
  hostname: string,
  port: number | undefined,
  path: string,
): CompiledRoute | undefined {
  for (const route of table.routes) {
    if (route.matchesHost(hostname, port) && route.matchesPath(path)) return route;
  }
  return undefined;
}

/** The first route for a host whatever the path: the route whose `from` says how the host is reached. */
export function matchHost(
  table: RouteTable,
  hostname: string,
  port: number | undefined,
): CompiledRoute | undefined {
  return table.routes.find((route) => route.matchesHost(hostname, port));
}
