import type { GatehouseConfig } from '../config/schema.js';
import { compileRoutes, type CompiledRoute, type RouteTable } from '../routing/compile-routes.js';
import { createUpstreamPool, type UpstreamPool } from '../proxy/upstream-pool.js';
import { compileIpRanges } from '../shared/ip-range.js';
import { planResponseHeaders, type ResponseHeaderPlan } from './response-headers.js';

/** Pomerium's default `idle_timeout` for a route. */
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

/** Everything a request needs from one route, resolved when the config loads. */
export interface RouteRuntime {
  readonly route: CompiledRoute;
  readonly pool: UpstreamPool;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly responseHeaders: ResponseHeaderPlan;
}

/**
 * The state built from one config: compiled routes, their connection pools and header plans. A reload
 * builds a new Runtime and swaps one reference; requests already running keep the one they started with,
 * and the old pools close once those requests are done.
 */
export interface Runtime {
  readonly config: GatehouseConfig;
  readonly table: RouteTable;
  /** Indexed by `CompiledRoute.index`. */
  readonly routes: readonly RouteRuntime[];
  /** Headers for answers that belong to no route (unknown hosts, health checks). */
  readonly responseHeaders: ResponseHeaderPlan;
  readonly isTrustedProxy: (ip: string) => boolean;
  close(): Promise<void>;
}

export function buildRuntime(config: GatehouseConfig): Runtime {
  const table = compileRoutes(config.routes);
  const routes = table.routes.map((route): RouteRuntime => {
    const { config: routeConfig } = route;
    const timeoutMs = routeConfig.timeout ?? config.default_upstream_timeout;
    const idleTimeoutMs = routeConfig.idle_timeout ?? DEFAULT_IDLE_TIMEOUT_MS;
    return {
      route,
      timeoutMs,
      idleTimeoutMs,
      responseHeaders: planResponseHeaders(config, routeConfig),
      pool: createUpstreamPool({
        targets: routeConfig.to,
        tlsSkipVerify: routeConfig.tls_skip_verify,
        tlsCustomCa: routeConfig.tls_custom_ca,
        timeoutMs,
        idleTimeoutMs,
      }),
    };
  });
  return {
    config,
    table,
    routes,
    responseHeaders: planResponseHeaders(config, undefined),
    isTrustedProxy: compileIpRanges(config.trusted_proxies),
    close: async () => {
      await Promise.all(routes.map((route) => route.pool.close()));
    },
  };
}
