import { compileAccessShortcuts, type AccessCheck } from '../auth/access-shortcuts.js';
import type { AuthMode, GatehouseConfig } from '../config/schema.js';
import { needsSignIn } from '../config/validate-identity.js';
import { compileCorsPolicy, type CorsPolicy } from '../cors/policy.js';
import { compileRoutes, type CompiledRoute, type RouteTable } from '../routing/compile-routes.js';
import { isStaticRoot } from '../config/urls.js';
import { createStaticFiles, type StaticFiles } from '../proxy/static-files.js';
import { createDynamicUpstream, type DynamicUpstream } from '../proxy/dynamic-upstream.js';
import { createUpstreamPool, type UpstreamPool } from '../proxy/upstream-pool.js';
import { compileIpRanges } from '../shared/ip-range.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { KvStore } from '../store/kv-store.js';
import type { Identity } from './identity.js';
import { planResponseHeaders, type ResponseHeaderPlan } from './response-headers.js';

/** Pomerium's default `idle_timeout` for a route. */
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

/** Everything a request needs from one route, resolved when the config loads. */
export interface RouteRuntime {
  readonly route: CompiledRoute;
  /** The upstream connections; undefined on a `file:///dir` route, which has `staticFiles` instead. */
  readonly pool: UpstreamPool | undefined;
  readonly staticFiles: StaticFiles | undefined;
  /** `dynamic_upstream`: each request names its upstream; `pool` dispatches to the one it names. */
  readonly dynamicUpstream: DynamicUpstream | undefined;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly responseHeaders: ResponseHeaderPlan;
  /** Who may use the route: the access shortcuts, compiled. */
  readonly access: AccessCheck;
  /** `allow_public_unauthenticated_access`: no session is read and none is needed. */
  readonly isPublic: boolean;
  readonly authMode: AuthMode;
  /** The route's `cors:` policy, answered by the proxy itself. */
  readonly cors: CorsPolicy | undefined;
  /** Pomerium's `cors_allow_preflight`: preflights pass without a session, to the upstream. */
  readonly corsAllowPreflight: boolean;
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
  /** The sign-in machinery; undefined when every route is public. */
  readonly identity: Identity | undefined;
  /** The process's store, when sign-in needs one; for readiness. */
  readonly store: KvStore | undefined;
  close(): Promise<void>;
}

/** What a runtime borrows from the process: the store (opened on first need) and the clock and logger. */
export interface RuntimeServices {
  openStore(): Promise<KvStore>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export async function buildRuntime(config: GatehouseConfig, services: RuntimeServices): Promise<Runtime> {
  let identity: Identity | undefined;
  let store: KvStore | undefined;
  if (needsSignIn(config)) {
    store = await services.openStore();
    // Loaded only when some route needs sign-in: the OIDC client and JWS libraries are the biggest part of
    // the process's memory, and a proxy of public routes never uses them.
    const { buildIdentity } = await import('./identity.js');
    identity = await buildIdentity(config, { store, clock: services.clock, logger: services.logger });
  }
  const table = compileRoutes(config.routes);
  const routes = table.routes.map((route): RouteRuntime => {
    const { config: routeConfig } = route;
    const timeoutMs = routeConfig.timeout ?? config.default_upstream_timeout;
    const idleTimeoutMs = routeConfig.idle_timeout ?? DEFAULT_IDLE_TIMEOUT_MS;
    // The config allows a `file:` target only as the route's one `to` entry.
    const staticRoot = routeConfig.to?.find(isStaticRoot);
    const upstreams = (routeConfig.to ?? []).filter((target) => !isStaticRoot(target));
    const upstreamSettings = {
      tlsSkipVerify: routeConfig.tls_skip_verify,
      tlsCustomCa: routeConfig.tls_custom_ca,
      timeoutMs,
      idleTimeoutMs,
    };
    const dynamicUpstream =
      routeConfig.dynamic_upstream === undefined
        ? undefined
        : createDynamicUpstream({ config: routeConfig.dynamic_upstream, poolOptions: upstreamSettings });
    return {
      route,
      timeoutMs,
      idleTimeoutMs,
      responseHeaders: planResponseHeaders(config, routeConfig),
      access: compileAccessShortcuts(routeConfig),
      isPublic: routeConfig.allow_public_unauthenticated_access,
      authMode: routeConfig.auth_mode,
      cors: routeConfig.cors === undefined ? undefined : compileCorsPolicy(routeConfig.cors),
      corsAllowPreflight: routeConfig.cors_allow_preflight,
      staticFiles: staticRoot === undefined ? undefined : createStaticFiles(staticRoot.root),
      pool:
        staticRoot !== undefined
          ? undefined
          : (dynamicUpstream?.pool ?? createUpstreamPool({ ...upstreamSettings, targets: upstreams })),
      dynamicUpstream,
    };
  });
  return {
    config,
    table,
    routes,
    responseHeaders: planResponseHeaders(config, undefined),
    isTrustedProxy: compileIpRanges(config.trusted_proxies),
    identity,
    store,
    close: async () => {
      await Promise.all([...routes.map((route) => route.pool?.close()), identity?.close()]);
    },
  };
}
