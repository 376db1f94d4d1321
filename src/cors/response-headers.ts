/**
 * CORS on actual responses (DESIGN 5, rules 3, 5 and 6): for an allowed origin, who may read the answer;
 * for any other, nothing — CORS is not access control, and the request is otherwise handled as usual.
 * On a `cors` route the proxy owns every `Access-Control-*` header: the upstream's are removed first, so
 * each appears exactly once. `Vary: Origin` is merged into the upstream's `Vary` wherever the answer
 * depends on the origin.
 */
import type { CorsPolicy } from './policy.js';

/** Lower-case names, arrays for repeated fields: the shape node:http and undici share. */
export type MutableHeaders = Record<string, string | string[]>;

const ACCESS_CONTROL_PREFIX = 'access-control-';

/** Adds `token` to a `Vary` field unless it is there already (names compare case-insensitively) or `*`. */
export function mergeVary(headers: MutableHeaders, token: string): void {
  const current = headers.vary;
  const existing = (Array.isArray(current) ? current.join(',') : (current ?? ''))
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (existing.some((item) => item === '*' || item.toLowerCase() === token.toLowerCase())) return;
  headers.vary = [...existing, token].join(', ');
}

export function applyCorsHeaders(
  policy: CorsPolicy,
  origin: string | undefined,
  headers: MutableHeaders,
): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith(ACCESS_CONTROL_PREFIX)) delete headers[name];
  }
  if (policy.isPublic) {
    // The same answer for every request, with or without Origin, so no Vary: a cache may then hand a
    // response fetched without Origin to a script (Fetch, "CORS protocol and HTTP caches").
    headers['access-control-allow-origin'] = '*';
  } else {
    mergeVary(headers, 'Origin');
    if (origin === undefined || !policy.allowsOrigin(origin)) return;
    headers['access-control-allow-origin'] = origin;
    if (policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  }
  if (policy.exposeHeaders !== undefined) headers['access-control-expose-headers'] = policy.exposeHeaders;
}
