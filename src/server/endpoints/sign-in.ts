/**
 * The sign-in endpoints (DESIGN 4.1, 4.2):
 *
 * - `/oauth2/start?login=…` (callback host): begins a signed login request from another host.
 * - `/oauth2/callback` (callback host): the IdP's redirect. The CSRF binding and the state are checked
 *   before the code is redeemed; then the session is created and the browser gets its cookie — here when
 *   this host may set it for the route host, else through a hand-off code — or, for a programmatic login,
 *   the token in `pomerium_jwt`.
 * - `/.pomerium/callback?code=…` (route host): redeems a hand-off code for a host-only cookie.
 * - `/.pomerium/sign_in?pomerium_redirect_uri=…`: starts signing in and returns to a page of this
 *   Gatehouse's routes (what an SPA uses after a 401).
 * - `/.pomerium/api/v1/login?pomerium_redirect_uri=…`: the programmatic login URL, as text.
 */
import type { LoginRequest, PendingLogin } from '../../auth/login-transaction.js';
import { verifyLoginRequest } from '../../auth/login-request.js';
import { checkReturnUrl } from '../../auth/redirect-allowlist.js';
import {
  buildClearCsrfCookie,
  buildSessionCookies,
  cookieDomainFor,
  readSessionCookie,
} from '../../auth/session-cookie.js';
import type { CreatedSession } from '../../auth/session-service.js';
import { GatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';
import type { Identity } from '../identity.js';
import {
  CALLBACK_PATH,
  callbackOrigin,
  checkRoutedReturnUrl,
  externalOrigin,
  externalUrl,
  isCallbackHost,
  loginUrl,
  redirectToIdp,
  redirectToSignIn,
  START_PATH,
} from '../sign-in.js';
import type { Endpoint } from './endpoint-app.js';
import { respond, redirectTo } from './respond.js';

const HANDOFF_PATH = '/.pomerium/callback';

/** The identity of this runtime; 404 when no route needs sign-in, as if the endpoint did not exist. */
export function identityOf(ctx: RequestContext): Identity {
  const identity = ctx.runtime.identity;
  if (!identity) throw new GatehouseError('ERR_ROUTE_NOT_FOUND', 'Sign-in is not configured on this server.');
  return identity;
}

function queryOf(ctx: RequestContext): URLSearchParams {
  return new URLSearchParams(ctx.query);
}

const redirectInvalid = (message: string) =>
  new GatehouseError('ERR_LOGIN_REDIRECT_INVALID', `pomerium_redirect_uri ${message}.`);

/** `/oauth2/*` is Gatehouse's only on the callback host, and only when sign-in is configured. */
const onCallbackHost = (ctx: RequestContext): boolean =>
  ctx.runtime.identity !== undefined && isCallbackHost(ctx, ctx.runtime.identity);

async function start(ctx: RequestContext): Promise<void> {
  const identity = identityOf(ctx);
  const request = verifyLoginRequest(
    queryOf(ctx).get('login') ?? undefined,
    identity.keys.loginRequest,
    identity.clock.now(),
  );
  await redirectToIdp(ctx, identity, request);
}

async function callback(ctx: RequestContext): Promise<void> {
  const identity = identityOf(ctx);
  const state = queryOf(ctx).get('state') ?? undefined;
  const csrfCookieName = identity.logins.csrfCookieName(state);
  const csrfCookie =
    csrfCookieName === undefined ? undefined : readSessionCookie(cookieHeaderOf(ctx), csrfCookieName);
  const pending = await identity.logins.completeLogin({
    state,
    csrfCookieValue: csrfCookie?.kind === 'present' ? csrfCookie.value : undefined,
  });
  const origin = callbackOrigin(ctx, identity);
  const user = await identity.oidc.redeemCode({
    callbackUrl: new URL(externalUrl(ctx)),
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    codeVerifier: pending.codeVerifier,
    redirectUri: `${origin}${CALLBACK_PATH}`,
  });
  const created = await identity.sessions.create(user);
  const clearCsrf = buildClearCsrfCookie(
    identity.logins.csrfCookieName(pending.state) ?? '',
    identity.cookie.secure,
    CALLBACK_PATH,
  );
  await finishSignIn(ctx, identity, pending, created, clearCsrf);
}

/** Where the browser goes once the session exists, carrying it in the way the sign-in asked for. */
async function finishSignIn(
  ctx: RequestContext,
  identity: Identity,
  pending: PendingLogin,
  created: CreatedSession,
  clearCsrf: string,
): Promise<void> {
  if (pending.mode === 'programmatic') {
    // Checked again: the allowlist may have changed since the sign-in began.
    const target = identity.checkProgrammaticRedirect(pending.programmaticRedirect);
    if (!target.ok) throw redirectInvalid(target.message);
    target.value.searchParams.set('pomerium_jwt', created.token);
    redirectTo(ctx, target.value.href, [clearCsrf]);
    return;
  }
  const returnUrl = new URL(pending.returnUrl);
  const here = ctx.hostname;
  const sharedDomain = cookieDomainFor(identity.cookie, pending.routeHost);
  const canSetHere =
    pending.routeHost === here ||
    (sharedDomain !== undefined && cookieDomainFor(identity.cookie, here) === sharedDomain);
  if (canSetHere) {
    const cookies = buildSessionCookies(
      {
        token: created.token,
        expiresAt: created.expiresAt,
        now: identity.clock.now(),
        host: pending.routeHost,
      },
      identity.cookie,
    );
    redirectTo(ctx, returnUrl.href, [clearCsrf, ...cookies]);
    return;
  }
  // Another apex: only the route host can set its cookie, so it gets a single-use code to redeem. The
  // code is bound to the host with its port, so presenting it on another port fails before it is used up.
  const code = await identity.handoffs.issueHandoff(
    { sessionToken: created.token, returnUrl: returnUrl.href },
    returnUrl.host,
  );
  redirectTo(ctx, `${returnUrl.origin}${HANDOFF_PATH}?code=${encodeURIComponent(code)}`, [clearCsrf]);
}

async function handoff(ctx: RequestContext): Promise<void> {
  const identity = identityOf(ctx);
  const payload = await identity.handoffs.redeemHandoff(
    queryOf(ctx).get('code') ?? undefined,
    new URL(externalOrigin(ctx)).host,
  );
  const returnUrl = checkReturnUrl(payload.returnUrl, { origin: externalOrigin(ctx) });
  if (!returnUrl.ok)
    throw new GatehouseError('ERR_HANDOFF_INVALID', 'This sign-in link is for another address.');
  const session = await identity.sessions.authenticate(payload.sessionToken);
  const cookies = buildSessionCookies(
    {
      token: payload.sessionToken,
      expiresAt: session.record.expiresAt,
      now: identity.clock.now(),
      host: ctx.hostname,
    },
    identity.cookie,
  );
  redirectTo(ctx, returnUrl.value.href, cookies);
}

/** The return URL an SPA asks for (checked by checkRoutedReturnUrl), or this host's root when none is named. */
function returnUrlOf(ctx: RequestContext): URL {
  const asked = queryOf(ctx).get('pomerium_redirect_uri');
  if (asked === null) return new URL(`${externalOrigin(ctx)}/`);
  const checked = checkRoutedReturnUrl(ctx, asked);
  if (!checked.ok) throw redirectInvalid(checked.message);
  return checked.value;
}

async function signIn(ctx: RequestContext): Promise<void> {
  const identity = identityOf(ctx);
  const returnUrl = returnUrlOf(ctx);
  await redirectToSignIn(ctx, identity, {
    returnUrl: returnUrl.href,
    routeHost: returnUrl.hostname,
    mode: 'cookie',
  });
}

function programmaticLogin(ctx: RequestContext): void {
  const identity = identityOf(ctx);
  const asked = queryOf(ctx).get('pomerium_redirect_uri');
  if (asked === null) throw redirectInvalid('is required');
  const target = identity.checkProgrammaticRedirect(asked);
  if (!target.ok) throw redirectInvalid(target.message);
  const request: LoginRequest = {
    returnUrl: target.value.href,
    routeHost: ctx.hostname,
    mode: 'programmatic',
    programmaticRedirect: target.value.href,
  };
  respond(ctx, 200, 'text/plain; charset=utf-8', loginUrl(ctx, identity, request));
}

function cookieHeaderOf(ctx: RequestContext): string | undefined {
  const header = ctx.req.headers.cookie;
  return Array.isArray(header) ? header.join('; ') : header;
}

export const signInEndpoints: readonly Endpoint[] = [
  { method: 'GET', path: START_PATH, handle: start, reservedFor: onCallbackHost },
  { method: 'GET', path: CALLBACK_PATH, handle: callback, reservedFor: onCallbackHost },
  { method: 'GET', path: HANDOFF_PATH, handle: handoff },
  { method: 'GET', path: '/.pomerium/sign_in', handle: signIn },
  { method: 'GET', path: '/.pomerium/api/v1/login', handle: programmaticLogin },
];
