/**
 * Checks across the sign-in keys, on the parsed config: a route that is not public needs an IdP, a
 * client and both secrets; secrets must be 32 base64 bytes; the cookie must be one browsers accept; a
 * session store shared by several processes must be Redis. A config that asks for protection it cannot
 * give is refused rather than served unprotected.
 */
import { checkSessionCookieSettings, sessionCookieSettingsOf } from './cookie-settings.js';
import { resolveIdpIssuer } from './idp-providers.js';
import { canonicalAllowlistHost, isLoopbackHost } from './redirect-hosts.js';
import type { GatehouseConfig, RouteConfig } from './schema.js';
import type { ProblemAt } from './schema-issues.js';
import { decodeSecret } from './secret-value.js';

/**
 * Plain http to the IdP only on loopback, where nobody else can read the tokens: the bundled development
 * IdP. Everywhere else the client secret and codes would cross the network in the clear.
 */
export function issuerMayUsePlainHttp(issuer: string): boolean {
  return URL.canParse(issuer) && isLoopbackHost(new URL(issuer).hostname);
}

/** Whether any route needs a signed-in user, and so the whole sign-in machinery. */
export function needsSignIn(config: Pick<GatehouseConfig, 'routes'>): boolean {
  return config.routes.some((route) => !route.allow_public_unauthenticated_access);
}

function grantsAnyone(route: RouteConfig): boolean {
  return (
    route.allow_any_authenticated_user || route.allowed_users.length > 0 || route.allowed_domains.length > 0
  );
}

function checkRouteAccess(route: RouteConfig, index: number): ProblemAt[] {
  const at = ['routes', index];
  if (route.allow_public_unauthenticated_access) {
    return grantsAnyone(route)
      ? [
          {
            path: at,
            message:
              'has allow_public_unauthenticated_access with allowed users or domains; a public route lets ' +
              'everyone in, so remove one of them',
          },
        ]
      : [];
  }
  if (grantsAnyone(route)) return [];
  return [
    {
      path: at,
      message:
        'lets nobody in: set allow_any_authenticated_user, allowed_users or allowed_domains, or ' +
        'allow_public_unauthenticated_access: true to serve it publicly',
    },
  ];
}

function checkSecret(value: string | undefined, path: ProblemAt['path']): ProblemAt[] {
  if (value === undefined) return [];
  const decoded = decodeSecret(value);
  return decoded.ok ? [] : [{ path, message: decoded.message }];
}

/** Keys without which sign-in cannot work, reported once each when some route needs it. */
function checkRequired(config: GatehouseConfig): ProblemAt[] {
  const firstProtected = config.routes.findIndex((route) => !route.allow_public_unauthenticated_access);
  const because = `is required: routes[${firstProtected}] is not public, so users sign in`;
  const problems: ProblemAt[] = [];
  const issuer = resolveIdpIssuer(config.idp_provider, config.idp_provider_url);
  if (!issuer.ok) problems.push({ path: ['idp_provider_url'], message: issuer.message });
  else if (!issuerMayUsePlainHttp(issuer.value) && new URL(issuer.value).protocol === 'http:') {
    problems.push({
      path: ['idp_provider_url'],
      message: 'must use https; plain http is accepted only for an IdP on loopback (development)',
    });
  }
  for (const key of ['idp_client_id', 'idp_client_secret', 'shared_secret', 'cookie_secret'] as const) {
    if (config[key] === undefined) problems.push({ path: [key], message: because });
  }
  if (config.workers > 1 && config.databroker_storage_type === 'memory') {
    problems.push({
      path: ['workers'],
      message:
        'above 1 needs databroker_storage_type: redis: sessions in one worker’s memory are unknown to the others',
    });
  }
  return problems;
}

function checkCallbackUrl(url: string | undefined): ProblemAt[] {
  if (url === undefined) return [];
  const { pathname, search, hash, username, password } = new URL(url);
  if ((pathname === '/' || pathname === '') && search === '' && hash === '' && username + password === '') {
    return [];
  }
  return [
    {
      path: ['authenticate_service_url'],
      message:
        'must be only a scheme, host and port such as https://authenticate.example.com; /oauth2/callback is added',
    },
  ];
}

function checkRedirectAllowlist(entries: readonly string[]): ProblemAt[] {
  return entries.flatMap((entry, index) =>
    canonicalAllowlistHost(entry.startsWith('*.') ? entry.slice(2) : entry) === undefined
      ? [
          {
            path: ['programmatic_redirect_domain_whitelist', index],
            message: `"${entry}" is not a host name such as localhost, cli.example.com or *.example.com`,
          },
        ]
      : [],
  );
}

export function validateIdentity(config: GatehouseConfig): ProblemAt[] {
  const problems: ProblemAt[] = config.routes.flatMap(checkRouteAccess);
  if (needsSignIn(config)) problems.push(...checkRequired(config));
  problems.push(
    ...checkSecret(config.shared_secret, ['shared_secret']),
    ...checkSecret(config.cookie_secret, ['cookie_secret']),
    ...config.previous_shared_secrets.flatMap((secret, index) =>
      checkSecret(secret, ['previous_shared_secrets', index]),
    ),
  );
  if (!config.idp_scopes.includes('openid')) {
    problems.push({
      path: ['idp_scopes'],
      message: 'must include openid: Gatehouse signs users in with OpenID Connect',
    });
  }
  if (
    config.databroker_storage_type === 'redis' &&
    config.databroker_storage_connection_string === undefined
  ) {
    problems.push({
      path: ['databroker_storage_connection_string'],
      message: 'is required with databroker_storage_type: redis, e.g. redis://127.0.0.1:6379',
    });
  }
  const cookie = checkSessionCookieSettings(sessionCookieSettingsOf(config));
  problems.push(...cookie.map((message) => ({ path: [], message })));
  problems.push(...checkCallbackUrl(config.authenticate_service_url));
  problems.push(...checkRedirectAllowlist(config.programmatic_redirect_domain_whitelist));
  return problems;
}
