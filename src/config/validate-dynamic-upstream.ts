/**
 * Checks across a route's keys for `dynamic_upstream` (the cloud CORS proxy) that the schema cannot
 * express key by key: a route takes its upstream from exactly one of `to` and `dynamic_upstream`, and the
 * features a request-chosen upstream cannot offer are refused with the reason. Reads the route before
 * validation, like validate-routes.ts.
 */
import { isMapping, type Mapping } from './mapping.js';
import type { PathSegment } from './problem.js';
import type { ProblemAt } from './schema-issues.js';

const DEFAULT_HOST_HEADER = 'exo-proxy-orig-host';
const DEFAULT_PORT_HEADER = 'exo-proxy-orig-port';

function headerNameOf(block: Mapping, key: string, fallback: string): string | undefined {
  const value = block[key] ?? fallback;
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}

export function checkDynamicUpstream(
  route: Mapping,
  at: (...keys: PathSegment[]) => PathSegment[],
): ProblemAt[] {
  const dynamic = route.dynamic_upstream;
  if (dynamic === undefined) {
    return route.to === undefined
      ? [{ path: at('to'), message: 'is required (or dynamic_upstream, for an upstream named per request)' }]
      : [];
  }
  const problems: ProblemAt[] = [];
  if (route.to !== undefined) {
    problems.push({
      path: at(),
      message: 'has both to and dynamic_upstream; a dynamic route takes its upstream from each request',
    });
  }
  if (route.allow_websockets === true) {
    problems.push({
      path: at('allow_websockets'),
      message: 'is not available with dynamic_upstream; WebSockets need a route with to',
    });
  }
  if (isMapping(dynamic)) {
    const hostHeader = headerNameOf(dynamic, 'host_header', DEFAULT_HOST_HEADER);
    const portHeader = headerNameOf(dynamic, 'port_header', DEFAULT_PORT_HEADER);
    if (hostHeader !== undefined && hostHeader === portHeader) {
      problems.push({
        path: at('dynamic_upstream', 'port_header'),
        message: 'must differ from host_header: one header names the host, the other the port',
      });
    }
  }
  return problems;
}
