/**
 * Answering CORS preflights (WHATWG Fetch, "CORS protocol" and "CORS-preflight fetch"). A preflight is an
 * `OPTIONS` request with `Origin` and a non-empty `Access-Control-Request-Method`; any other `OPTIONS` is
 * an ordinary request. The browser sends no credentials on a preflight, so it is answered before any
 * authentication, and it is never forwarded: the upstream of a `cors` route does not see it.
 */
import type { CorsPolicy } from './policy.js';

/** What a preflight asks, as the request headers carry it (Node's lower-case names). */
export interface PreflightRequest {
  readonly origin: string;
  readonly requestMethod: string;
  /** `Access-Control-Request-Headers`, one or several field lines. */
  readonly requestHeaders: string | readonly string[] | undefined;
  /** `Access-Control-Request-Private-Network` (Private Network Access). */
  readonly requestPrivateNetwork: string | undefined;
}

export type PreflightAnswer =
  | { readonly allowed: true; readonly headers: Readonly<Record<string, string>> }
  /** 403 without any `Access-Control-*` header; `reason` is for the log. */
  | { readonly allowed: false; readonly reason: string; readonly headers: Readonly<Record<string, string>> };

/** RFC 9110 §5.6.2 token: method and header names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Fetch, "CORS-safelisted method": a browser never needs a server's leave for these. */
const SAFELISTED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST']);

/** Whether a request is a preflight; `method` as received (methods are case-sensitive, RFC 9110 §9.1). */
export function isPreflight(
  method: string | undefined,
  origin: string | undefined,
  requestMethod: string | undefined,
): boolean {
  return method === 'OPTIONS' && origin !== undefined && requestMethod !== undefined && requestMethod !== '';
}

/**
 * The names in `Access-Control-Request-Headers`, lower-cased: a comma-separated list (RFC 9110 §5.6.1)
 * read tolerantly — whitespace around items, empty items and several field lines are all accepted — or
 * undefined when an item is not a header name.
 */
export function parseHeaderList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return [];
  const names: string[] = [];
  for (const line of typeof value === 'string' ? [value] : value) {
    for (const item of line.split(',')) {
      const name = item.trim();
      if (name === '') continue;
      if (!TOKEN.test(name)) return undefined;
      names.push(name.toLowerCase());
    }
  }
  return names;
}

/** Preflights vary on what they ask as well as on who asks (DESIGN 5, rule 5). */
function varyOf(policy: CorsPolicy): string {
  const names = ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers'];
  if (policy.allowPrivateNetwork) names.push('Access-Control-Request-Private-Network');
  return names.join(', ');
}

export function answerPreflight(policy: CorsPolicy, request: PreflightRequest): PreflightAnswer {
  const vary = varyOf(policy);
  const refuse = (reason: string): PreflightAnswer => ({ allowed: false, reason, headers: { vary } });
  if (!policy.allowsOrigin(request.origin)) return refuse(`origin ${request.origin} is not allowed`);
  const method = request.requestMethod.trim();
  if (!TOKEN.test(method)) return refuse('Access-Control-Request-Method is not a method');
  if (policy.methods !== undefined && !policy.methods.has(method) && !SAFELISTED_METHODS.has(method)) {
    return refuse(`method ${method} is not allowed`);
  }
  const names = parseHeaderList(request.requestHeaders);
  if (names === undefined) return refuse('Access-Control-Request-Headers is not a list of header names');
  const refused = names.find(
    (name) => !policy.headers.has(name) && !(policy.anyHeader && name !== 'authorization'),
  );
  if (refused !== undefined) return refuse(`header ${refused} is not allowed`);
  const privateNetwork = request.requestPrivateNetwork === 'true';
  if (privateNetwork && !policy.allowPrivateNetwork) return refuse('private network access is not allowed');

  const headers: Record<string, string> = {
    'access-control-allow-origin': policy.isPublic ? '*' : request.origin,
    'access-control-allow-methods': method,
    vary,
  };
  if (policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  if (names.length > 0) headers['access-control-allow-headers'] = [...new Set(names)].join(', ');
  if (policy.maxAge !== undefined) headers['access-control-max-age'] = String(policy.maxAge);
  if (privateNetwork) headers['access-control-allow-private-network'] = 'true';
  return { allowed: true, headers };
}
