/**
 * Starting a sign-in (DESIGN 4.1) from wherever a request needs one: the URL the user visited, the
 * origin the callback lives on, and the redirect that begins the authorization code flow.
 */
import type { LoginRequest } from '../auth/login-transaction.js';
import { signLoginRequest } from '../auth/login-request.js';
import { checkReturnUrl } from '../auth/redirect-allowlist.js';
import { buildCsrfCookie, cookieDomainFor } from '../auth/session-cookie.js';
import type { Parsed } from '../config/urls.js';
import { matchHost } from '../routing/match-route.js';
import { GatehouseError } from '../shared/errors.js';
import type { RequestContext } from './context.js';
import { redirectTo } from './endpoints/respond.js';
import type { Identity } from './identity.js';
import { answerForUnauthenticated } from './login-decision.js';

/** Where the IdP sends the browser back (registered at the IdP as `<host>/oauth2/callback`). */
export const CALLBACK_PATH = '/oauth2/callback';

/** Where `/oauth2/start` takes a signed login request on the callback host. */
export const START_PATH = '/oauth2/start';

/**
 * The origin the user reached. The scheme is the route's `from` rather than the connection's: behind a
 * TLS-terminating load balancer (`insecure_server`) the user is on https although Gatehouse hears http.
 */
export function externalOrigin(ctx: RequestContext): string {
  const route = ctx.route?.route ?? matchHost(ctx.runtime.table, ctx.hostname, ctx.port);
  const scheme = route?.config.from.scheme ?? ctx.proto;
  return `${scheme}://${ctx.hostname}${ctx.port === undefined ? '' : `:${ctx.port}`}`;
}

/** The URL of this request as the user reached it: the return URL of a sign-in it starts. */
export function externalUrl(ctx: RequestContext): string {
  return `${externalOrigin(ctx)}${ctx.path}${ctx.query === '' ? '' : `?${ctx.query}`}`;
}

/** The host the IdP returns to: `authenticate_service_url`, or the visited host itself. */
export function callbackOrigin(ctx: RequestContext, identity: Identity): string {
  return identity.authenticateOrigin ?? externalOrigin(ctx);
}

/**
 * Whether this request reached the callback host. Host names are compared, not origins: behind a
 * TLS-terminating load balancer the authenticate host may be no route's host, and Gatehouse hears http.
 */
export function isCallbackHost(ctx: RequestContext, identity: Identity): boolean {
  return (
    identity.authenticateOrigin === undefined ||
    new URL(identity.authenticateOrigin).hostname === ctx.hostname
  );
}

/**
 * A URL that starts signing in for `request` when a browser opens it: the callback host's `/oauth2/start`
 * with the request signed, so nothing is stored until someone actually signs in.
 */
export function loginUrl(ctx: RequestContext, identity: Identity, request: LoginRequest): string {
  const signed = signLoginRequest(request, identity.keys.loginRequest, identity.clock.now());
  return `${callbackOrigin(ctx, identity)}${START_PATH}?login=${signed}`;
}

/**
 * Sends the browser on its way to sign in: straight to the IdP when this host is the callback host (the
 * login transaction begins here and its CSRF cookie is set here), otherwise to the callback host's
 * `/oauth2/start`, which can set that cookie on itself.
 */
export async function redirectToSignIn(
  ctx: RequestContext,
  identity: Identity,
  request: LoginRequest,
): Promise<void> {
  if (!isCallbackHost(ctx, identity)) {
    redirectTo(ctx, loginUrl(ctx, identity, request));
    return;
  }
  await redirectToIdp(ctx, identity, request);
}

/** Begins the login transaction on this (the callback) host and redirects to the IdP. */
export async function redirectToIdp(
  ctx: RequestContext,
  identity: Identity,
  request: LoginRequest,
): Promise<void> {
  if (!identity.signInBudget.take()) {
    throw new GatehouseError('ERR_TOO_MANY_SIGN_INS', 'the sign-in budget of this process is spent', {
      headers: { 'retry-after': '60' },
    });
  }
  const begun = await identity.logins.beginLogin(request);
  const authorization = await identity.oidc.authorizationUrl({
    state: begun.state,
    nonce: begun.nonce,
    codeChallenge: begun.codeChallenge,
    redirectUri: `${callbackOrigin(ctx, identity)}${CALLBACK_PATH}`,
  });
  redirectTo(ctx, authorization.href, [
    buildCsrfCookie(begun.csrfCookie, identity.cookie.secure, CALLBACK_PATH),
  ]);
}

/**
 * A return URL named by a client (`pomerium_redirect_uri`, a `Referer`): an http(s) page on a host one of
 * this Gatehouse's routes serves, with the route's scheme — the only pages a sign-in may return to.
 */
export function checkRoutedReturnUrl(ctx: RequestContext, text: string): Parsed<URL> {
  if (!URL.canParse(text)) return { ok: false, message: 'is not an absolute URL' };
  // checkReturnUrl takes an http(s) origin; `javascript:` and `data:` have none (their origin is "null").
  const { protocol, origin } = new URL(text);
  if (protocol !== 'http:' && protocol !== 'https:')
    return { ok: false, message: 'is not an http or https URL' };
  const checked = checkReturnUrl(text, { origin });
  if (!checked.ok) return checked;
  const url = checked.value;
  const port = url.port === '' ? undefined : Number(url.port);
  const route = matchHost(ctx.runtime.table, url.hostname, port);
  if (route === undefined || `${route.config.from.scheme}:` !== url.protocol) {
    return { ok: false, message: 'is not an address this Gatehouse serves' };
  }
  return checked;
}

/**
 * Where a script's 401 brings the user back after signing in: the page that made the call (its `Referer`)
 * when that page is served here and shares the session being signed in to — the same host, or the same
 * `cookie_domain` — so an SPA does not land on its API's raw JSON. Otherwise `request`: the URL that
 * answered 401.
 * Browsers send only the origin as `Referer` across origins (`strict-origin-when-cross-origin`), so a
 * sibling-subdomain SPA comes back to its root.
 */
function loginRequestForScript(ctx: RequestContext, identity: Identity, request: LoginRequest): LoginRequest {
  const referer = ctx.req.headers.referer;
  const page = referer === undefined ? undefined : checkRoutedReturnUrl(ctx, referer);
  if (page === undefined || !page.ok) return request;
  const pageHost = page.value.hostname;
  const shared = cookieDomainFor(identity.cookie, ctx.hostname);
  const sharesSession =
    pageHost === ctx.hostname ||
    (shared !== undefined && cookieDomainFor(identity.cookie, pageHost) === shared);
  // The page's host gets the cookie: with the shared cookie_domain it covers the API's host too.
  return sharesSession ? { returnUrl: page.value.href, routeHost: pageHost, mode: 'cookie' } : request;
}

/**
 * What a request that needs a user and has none gets (DESIGN 4.3): a top-level navigation is sent to sign
 * in and returns here afterwards; everything else gets a 401 it can read, with `login_url`.
 */
export async function answerUnauthenticated(
  ctx: RequestContext,
  identity: Identity,
  reason: string,
): Promise<'done'> {
  const request: LoginRequest = { returnUrl: externalUrl(ctx), routeHost: ctx.hostname, mode: 'cookie' };
  const route = ctx.route ?? { authMode: 'auto' as const };
  if (answerForUnauthenticated(ctx.req.headers, route) === 'redirect') {
    await redirectToSignIn(ctx, identity, request);
    return 'done';
  }
  throw new GatehouseError('ERR_UNAUTHENTICATED', reason, {
    headers: { 'www-authenticate': 'Pomerium' },
    loginUrl: loginUrl(ctx, identity, loginRequestForScript(ctx, identity, request)),
  });
}
