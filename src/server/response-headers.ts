import type { GatehouseConfig, RouteConfig } from '../config/schema.js';

/** Response headers in the shape undici and node:http share: lower-case names, arrays for repeats. */
export type ResponseHeaders = Record<string, string | string[]>;

/**
 * The response header edits for one route, computed once when the config loads. Secure defaults are only
 * added when the upstream has not set the header itself (so an upstream's stricter `X-Frame-Options: DENY`
 * stands); configured `set_response_headers` replace whatever the upstream sent, the route's over the
 * global ones; an empty global value switches a default off.
 */
export interface ResponseHeaderPlan {
  readonly defaults: ReadonlyArray<readonly [string, string]>;
  readonly overrides: ReadonlyArray<readonly [string, string]>;
}

const SECURE_DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ['x-frame-options', 'SAMEORIGIN'],
  ['x-content-type-options', 'nosniff'],
];
/** RFC 6797: only meaningful, and only safe to send, over TLS. */
const HSTS: readonly [string, string] = ['strict-transport-security', 'max-age=31536000; includeSubDomains'];

export function planResponseHeaders(
  config: GatehouseConfig,
  route: RouteConfig | undefined,
): ResponseHeaderPlan {
  const global = lowerCaseKeys(config.set_response_headers);
  const defaults = [...SECURE_DEFAULTS, ...(config.insecure_server ? [] : [HSTS])].filter(
    ([name]) => !(name in global),
  );
  const overrides = new Map(Object.entries(global).filter(([, value]) => value !== ''));
  for (const [name, value] of Object.entries(lowerCaseKeys(route?.set_response_headers ?? {}))) {
    overrides.set(name, value);
  }
  return { defaults, overrides: [...overrides] };
}

export function applyResponseHeaders(plan: ResponseHeaderPlan, headers: ResponseHeaders): void {
  for (const [name, value] of plan.defaults) if (!(name in headers)) headers[name] = value;
  for (const [name, value] of plan.overrides) headers[name] = value;
}

function lowerCaseKeys(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
}
