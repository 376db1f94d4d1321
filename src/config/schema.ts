/**
 * The configuration schema: every key Gatehouse understands, with its documentation, default and
 * validation in one place. The TypeScript types are derived from it; there is no second description.
 * Key names are Pomerium's (snake_case) so existing configs load unchanged.
 *
 * Only checks that need nothing but the value itself live here. Checks across keys (one matcher per
 * route, rewrites that contradict each other) live in `validate-routes.ts`; Pomerium keys Gatehouse does
 * not implement are classified in `pomerium-keys.ts`.
 */
import { z } from 'zod';
import { logLevels } from '../shared/logger.js';
import { DEFAULT_COOKIE_NAME } from './cookie-settings.js';
import { parseOriginEntry } from './cors-origins.js';
import { parseDuration } from './duration.js';
import { knownIdpProviders } from './idp-providers.js';
import { checkStaticTargets } from './static-root.js';
import { isUpstreamHostPattern } from '../shared/upstream-host.js';
import { parseRouteFrom, parseRouteTarget, type Parsed } from './urls.js';

/** Header names are RFC 9110 §5.6.2 tokens. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values may not carry CR, LF or NUL (RFC 9110 §5.5): they would split the header block. */
const HEADER_VALUE = /^[^\r\n\0]*$/;

/** Go-style durations; milliseconds in the parsed config. Document with `.meta({ type: 'duration' })`. */
const duration = () =>
  z.union([z.string(), z.number().nonnegative()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration; write it like 30s, 1m30s, 500ms or 2h`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** Turns a `Parsed` result into a zod transform that reports the message at the key's path. */
function parsedWith<T>(parse: (text: string) => Parsed<T>) {
  return (text: string, ctx: z.RefinementCtx): T => {
    const result = parse(text);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: result.message });
    return z.NEVER;
  };
}

const headerName = z.string().regex(HEADER_NAME, 'is not a valid header name');
const headerValue = z.string().regex(HEADER_VALUE, 'may not contain CR, LF or NUL characters');
const headerMap = z.record(headerName, headerValue);

/** A PEM document given inline, either as PEM text or base64 of it (Pomerium's convention). */
const pemOrBase64 = z.string().min(1);

/** An absolute http(s) URL, kept as written. */
const httpUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an absolute http:// or https:// URL');

/** RFC 9110 §9.1: a method is a token; compared case-sensitively (Fetch: "byte-case-sensitive"). */
const methodToken = z.string().regex(HEADER_NAME, 'is not a valid method token');

/** A route's `cors:` block (DESIGN 5): the CORS policy the proxy answers itself. */
export const corsSchema = z.strictObject({
  allowed_origins: z
    .array(z.string().transform(parsedWith(parseOriginEntry)))
    .min(1, 'needs at least one origin')
    .meta({
      type: 'list of origins',
      description:
        'Origins whose scripts may read responses: `https://app.example.com`, `https://*.example.com` ' +
        '(one or more labels, never the apex), `/regex/` (full match), `null`, or `*`.',
    }),
  allowed_methods: z
    .array(z.union([z.literal('*'), methodToken]))
    .default(['GET', 'HEAD', 'POST'])
    .meta({
      type: 'list of methods, or *',
      description: 'Methods a preflight may ask for (case-sensitive); `*` for any, without credentials only.',
    }),
  allowed_headers: z
    .array(z.union([z.literal('*'), headerName]))
    .default([])
    .meta({
      type: 'list of header names, or *',
      description: 'Request headers a preflight may ask for; `*` for any except `Authorization`.',
    }),
  exposed_headers: z
    .array(z.union([z.literal('*'), headerName]))
    .default([])
    .meta({
      type: 'list of header names, or *',
      description: 'Response headers scripts may read beyond the CORS-safelisted ones.',
    }),
  allow_credentials: z
    .boolean()
    .default(false)
    .describe('Let scripts send cookies and read the answers (`credentials: "include"`).'),
  max_age: z
    .int()
    .optional()
    .describe('Seconds a browser may cache a preflight answer (`Access-Control-Max-Age`).'),
  allow_private_network: z
    .boolean()
    .default(false)
    .describe('Answer Private Network Access preflights (`Access-Control-Allow-Private-Network`).'),
  allow_any_origin_with_credentials: z
    .boolean()
    .default(false)
    .describe(
      'With `*` and `allow_credentials`: echo any origin with credentials. Any website can then act as ' +
        'the signed-in user; for open APIs only, and warned about at every start.',
    ),
});

/** A route's `dynamic_upstream:` block (DESIGN 1.4): the upstream named by each request's headers. */
export const dynamicUpstreamSchema = z.strictObject({
  host_header: headerName
    .default('exo-proxy-orig-host')
    .describe('The request header naming the upstream host: a DNS name or an IP address, no port.'),
  port_header: headerName
    .default('exo-proxy-orig-port')
    .describe('The request header naming the upstream port.'),
  scheme: z
    .enum(['https', 'http'])
    .default('https')
    .describe('How Gatehouse talks to the upstream; `http` sends credentials in clear text.'),
  allowed_hosts: z
    .array(
      z.string().refine(isUpstreamHostPattern, 'must be a host name, `*.` and a domain, or an IP address'),
    )
    .min(1, 'needs at least one host')
    .meta({
      type: 'list of host patterns',
      description:
        'Hosts a request may name: `keystone.example.com`, `*.example.com` (one or more labels below, ' +
        'never the apex or look-alikes), or an IP address. Anything else is refused with 403.',
    }),
  allowed_ports: z
    .array(z.int().min(1).max(65535))
    .min(1, 'needs at least one port')
    .default([443])
    .meta({ type: 'list of ports', description: 'Ports a request may name.' }),
  allow_private_addresses: z
    .boolean()
    .default(false)
    .describe(
      'Also connect to loopback, private (RFC 1918, ULA, CGNAT), link-local (cloud metadata) and other ' +
        'non-public addresses. They are refused by default, checked after DNS resolution.',
    ),
});

/** A route's `auth_mode` (DESIGN 4.3): what an unauthenticated request gets. */
export const authModes = ['auto', 'redirect', 'api'] as const;

export const routeSchema = z.strictObject({
  name: z.string().optional().describe('A name for logs and metrics; defaults to the route index.'),
  description: z.string().optional().describe('Free text for people reading the config.'),
  from: z
    .string()
    .transform(parsedWith(parseRouteFrom))
    .meta({
      type: 'URL',
      description:
        'The external URL the route answers: `https://host[:port]`. Without a port any port matches. ' +
        '`*.example.com` matches one or more labels under example.com, never the apex or look-alikes.',
    }),
  to: z
    .union([z.string(), z.array(z.string()).min(1, 'needs at least one upstream URL')])
    .transform((to) => (typeof to === 'string' ? [to] : to))
    .pipe(
      z.array(z.string().transform(parsedWith(parseRouteTarget))).superRefine((targets, ctx) => {
        for (const { index, message } of checkStaticTargets(targets)) {
          ctx.addIssue({ code: 'custom', message, path: [index] });
        }
      }),
    )
    .optional()
    .meta({
      type: 'URL or list of URLs',
      description:
        'The upstream URL, or a list used round robin. `http` or `https`; a path in the URL is put ' +
        'before the request path. Or `file:///dir` alone: serve the static files of an SPA from that ' +
        'directory (must exist at load; GET and HEAD; `index.html` for paths that are not files and whose ' +
        'last segment has no extension; no listings; nothing outside the directory). The rewritten path ' +
        'names the file, so `prefix: /app` wants `prefix_rewrite: /`.',
    }),
  dynamic_upstream: dynamicUpstreamSchema.optional().meta({
    type: 'dynamic upstream (keys below)',
    description:
      'Instead of `to`: forward each request to the host and port its headers name (the cloud CORS ' +
      'proxy), only to allowed hosts and ports at public addresses.',
  }),
  prefix: z.string().optional().describe('Match paths equal to this or below it (segment-aware).'),
  path: z.string().optional().describe('Match exactly this path.'),
  regex: z.string().optional().describe('Match paths this regular expression matches in full.'),
  prefix_rewrite: z.string().optional().describe('Replace the matched `prefix` with this.'),
  regex_rewrite_pattern: z
    .string()
    .optional()
    .describe('Rewrite the path: every match of this pattern is replaced by the substitution.'),
  regex_rewrite_substitution: z
    .string()
    .optional()
    .describe('The replacement for `regex_rewrite_pattern`; `\\1`… name capture groups.'),
  preserve_host_header: z
    .boolean()
    .default(false)
    .describe("Send the client's Host header upstream instead of the upstream's own host."),
  host_rewrite: z.string().optional().describe('Send this Host header upstream.'),
  timeout: duration().optional().meta({
    type: 'duration',
    description:
      'How long the upstream may take to start answering before a 504; default `default_upstream_timeout`.',
  }),
  idle_timeout: duration().optional().meta({
    type: 'duration',
    description:
      'How long a request or response body may stall before the exchange is aborted; `0` disables. Default 5m.',
  }),
  allow_websockets: z.boolean().default(false).describe('Allow WebSocket upgrades on this route.'),
  tls_skip_verify: z
    .boolean()
    .default(false)
    .describe("Do not verify the upstream's certificate (testing only)."),
  tls_custom_ca: pemOrBase64
    .optional()
    .describe('CA certificate(s) for the upstream, PEM or base64 PEM; also `tls_custom_ca_file`.'),
  set_request_headers: headerMap.default({}).describe('Headers set on the request to the upstream.'),
  remove_request_headers: z
    .array(headerName)
    .default([])
    .describe('Headers removed from the request to the upstream.'),
  set_response_headers: headerMap
    .default({})
    .describe('Headers set on every response of this route (they replace the upstream’s).'),
  allow_public_unauthenticated_access: z
    .boolean()
    .default(false)
    .describe('Serve this route to everyone, signed in or not.'),
  allow_any_authenticated_user: z.boolean().default(false).describe('Let in anyone who signs in at the IdP.'),
  allowed_users: z
    .array(z.string())
    .default([])
    .describe('Let in these users: emails (case-insensitive) or IdP user ids (`sub`).'),
  allowed_domains: z
    .array(z.string())
    .default([])
    .describe(
      'Let in users whose email (exactly one `@`) is in one of these domains; subdomains do not count.',
    ),
  cors: corsSchema.optional().meta({
    type: 'CORS policy (keys below)',
    description: 'The CORS policy Gatehouse answers for this route (see the CORS guides).',
  }),
  cors_allow_preflight: z
    .boolean()
    .default(false)
    .describe(
      "Pomerium's switch: let CORS preflights through without a session, to be answered by the upstream. " +
        'Redundant next to `cors`, which answers them itself.',
    ),
  auth_mode: z
    .enum(authModes)
    .default('auto')
    .describe(
      'What a request without a session gets: `auto` redirects browser navigations to sign in and answers ' +
        'everything else 401 JSON; `redirect` always redirects; `api` always answers 401.',
    ),
});

export const configSchema = z.strictObject({
  address: z
    .string()
    .optional()
    .describe('Listen address `[host]:port`; default `:8443`, or `:8080` with `insecure_server`.'),
  insecure_server: z
    .boolean()
    .default(false)
    .describe('Serve plain HTTP (behind a TLS-terminating load balancer).'),
  certificate: pemOrBase64
    .optional()
    .describe('TLS certificate chain, PEM or base64 PEM; also `certificate_file`.'),
  certificate_key: pemOrBase64
    .optional()
    .describe('TLS private key, PEM or base64 PEM; also `certificate_key_file`.'),
  trusted_proxies: z
    .array(z.string())
    .default([])
    .describe(
      'CIDRs of proxies in front of Gatehouse whose X-Forwarded-* headers are believed and appended to.',
    ),
  set_response_headers: headerMap
    .default({})
    .describe(
      'Headers set on every response. Defaults add X-Frame-Options, X-Content-Type-Options and, with ' +
        'TLS, Strict-Transport-Security when the upstream has not set them; an empty value removes one.',
    ),
  default_upstream_timeout: duration()
    .default(30_000)
    .meta({ type: 'duration', description: 'The `timeout` of routes that set none.' }),
  log_level: z.enum(logLevels).default('info').describe('The least severe log level written.'),
  workers: z
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe(
      'Processes serving requests, sharing the listening socket (node:cluster); 1 to 64, a change needs a ' +
        'restart. When sign-in is configured, workers > 1 needs the Redis store.',
    ),
  authenticate_service_url: httpUrl
    .optional()
    .describe(
      'The external URL whose `/oauth2/callback` is registered at the IdP. Absent: the callback is ' +
        '`/oauth2/callback` on the host being visited (register each).',
    ),
  idp_provider: z
    .string()
    .default('oidc')
    .describe(`The IdP kind: ${knownIdpProviders.join(', ')}; all are generic OpenID Connect.`),
  idp_provider_url: httpUrl.optional().describe("The IdP's issuer URL, discovered at start."),
  idp_client_id: z.string().min(1).optional().describe('The client id registered at the IdP.'),
  idp_client_secret: z
    .string()
    .min(1)
    .optional()
    .describe('The client secret registered at the IdP; also `idp_client_secret_file`.'),
  idp_scopes: z
    .array(z.string().min(1))
    .default(['openid', 'email', 'profile', 'offline_access'])
    .describe('Scopes asked for at sign-in; must include `openid`.'),
  shared_secret: z
    .string()
    .optional()
    .describe(
      'Base64 of 32 random bytes: signs session tokens and hand-off codes; also `shared_secret_file`. ' +
        'Generate with `head -c32 /dev/urandom | base64`.',
    ),
  previous_shared_secrets: z
    .array(z.string())
    .default([])
    .describe('Earlier shared secrets whose session tokens are still accepted (rotation).'),
  cookie_secret: z
    .string()
    .optional()
    .describe(
      'Base64 of 32 random bytes: encrypts sessions and sign-ins at rest; also `cookie_secret_file`.',
    ),
  cookie_name: z.string().default(DEFAULT_COOKIE_NAME).describe('The session cookie’s name.'),
  cookie_domain: z
    .string()
    .optional()
    .describe(
      'Share the session cookie with this domain and its subdomains (`.example.com`). Absent: host-only.',
    ),
  cookie_http_only: z.boolean().default(true).describe('Keep the session cookie away from scripts.'),
  cookie_same_site: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(['lax', 'strict', 'none']))
    .default('lax')
    .meta({ type: 'one of lax, strict, none', description: 'The session cookie’s SameSite attribute.' }),
  cookie_expire: duration()
    .default(14 * 3_600_000)
    .meta({ type: 'duration', description: 'How long a session lasts after sign-in.' }),
  cookie_secure: z
    .boolean()
    .default(true)
    .describe(
      'Send the session cookie over https only. `false` is for local development over plain http and is ' +
        'warned about at every start.',
    ),
  databroker_storage_type: z
    .enum(['memory', 'redis'])
    .default('memory')
    .describe('Where sessions live: `memory` (one process) or `redis` (several processes or replicas).'),
  databroker_storage_connection_string: z
    .string()
    .optional()
    .describe(
      'The Redis URL: `redis://`, `rediss://`, `redis+sentinel://` or `redis+cluster://`; also ' +
        '`databroker_storage_connection_string_file`. A change needs a restart.',
    ),
  databroker_storage_key_prefix: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 visible ASCII characters, such as gatehouse:')
    .default('gatehouse:')
    .describe(
      'Put before every Redis key and channel, so several Gatehouse deployments can share one Redis. ' +
        'Every process of one deployment must use the same prefix.',
    ),
  programmatic_redirect_domain_whitelist: z
    .array(z.string())
    .default(['localhost'])
    .describe(
      'Hosts `/.pomerium/api/v1/login` may send a session token to (`*.example.com` for subdomains); ' +
        'plain http only to loopback.',
    ),
  signout_redirect_url: httpUrl.optional().describe('Where the browser ends after signing out.'),
  routes: z.array(routeSchema).default([]).describe('The routes, matched in order; first match wins.'),
});

export type RouteConfig = z.output<typeof routeSchema>;
export type GatehouseConfig = z.output<typeof configSchema>;
export type AuthMode = (typeof authModes)[number];
export type CorsConfig = z.output<typeof corsSchema>;
export type DynamicUpstreamConfig = z.output<typeof dynamicUpstreamSchema>;
