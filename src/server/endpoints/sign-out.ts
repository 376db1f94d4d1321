/**
 * `/.pomerium/sign_out` (DESIGN 4.2). GET shows a confirmation page: a link or an image must not be able
 * to sign anyone out. POST ends the session on every replica, clears the cookie, revokes the refresh
 * token at the IdP when it offers revocation (RFC 7009), and sends a browser through the IdP's
 * `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0) to `signout_redirect_url`.
 */
import { buildClearSessionCookies } from '../../auth/session-cookie.js';
import type { Session } from '../../auth/session-service.js';
import { GatehouseError } from '../../shared/errors.js';
import type { RequestContext } from '../context.js';
import type { Identity } from '../identity.js';
import { prefersHtml } from '../negotiate.js';
import { readRequestSession } from '../request-session.js';
import { externalOrigin } from '../sign-in.js';
import type { Endpoint } from './endpoint-app.js';
import { redirectTo, respond, respondJson } from './respond.js';
import { identityOf } from './sign-in.js';

const SIGN_OUT_PATH = '/.pomerium/sign_out';
/**
 * No `form-action`: browsers check it against every redirect a form submission follows (Chromium blocks
 * them), and the sign-out POST redirects to the IdP's `end_session_endpoint` or `signout_redirect_url`, so
 * `'self'` stopped sign-out in the browser (test/e2e/sign-in.test.ts). The page has no script to abuse it.
 */
const PAGE_SECURITY = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
};
const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>${STYLE}</style></head>
<body><h1>${title}</h1>${body}</body></html>
`;
}

function confirm(ctx: RequestContext): void {
  identityOf(ctx);
  respond(
    ctx,
    200,
    'text/html; charset=utf-8',
    page(
      'Sign out?',
      `<form method="post" action="${SIGN_OUT_PATH}"><button type="submit">Sign out</button></form>`,
    ),
    PAGE_SECURITY,
  );
}

/**
 * A cookie is sent by the browser whoever asks, so a cookie sign-out must come from this site (Fetch
 * metadata, or `Origin` where the browser sends no `Sec-Fetch-Site`); sibling subdomains count, for an SPA
 * on app.example.com signs out through api.example.com. Header tokens are only sent by code that holds them.
 */
function isCrossSite(ctx: RequestContext): boolean {
  const site = ctx.req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'cross-site';
  const origin = ctx.req.headers.origin;
  return origin !== undefined && origin !== externalOrigin(ctx);
}

async function revokeAtIdp(identity: Identity, session: Session): Promise<void> {
  const { refreshToken } = session.record.tokens;
  if (refreshToken === undefined) return;
  try {
    await identity.oidc.revoke(refreshToken, 'refresh_token');
  } catch (error) {
    // The session is gone here either way; the IdP's copy expires on its own.
    identity.logger.warn({ err: error }, 'revoking the refresh token at the IdP failed');
  }
}

async function signOut(ctx: RequestContext): Promise<void> {
  const identity = identityOf(ctx);
  const found = await readRequestSession(ctx, identity);
  const fromCookie = found.kind !== 'none' && found.source === 'cookie';
  if (fromCookie && isCrossSite(ctx)) {
    throw new GatehouseError('ERR_SIGN_OUT_CROSS_SITE', 'Sign out from a page of this site.');
  }
  let endSession: URL | undefined;
  if (found.kind === 'session') {
    const { session } = found;
    await revokeAtIdp(identity, session);
    await identity.sessions.revoke(session.id);
    endSession = await identity.oidc
      .endSessionUrl({
        ...(session.record.tokens.idToken === undefined
          ? {}
          : { idTokenHint: session.record.tokens.idToken }),
        ...(identity.signoutRedirectUrl === undefined
          ? {}
          : { postLogoutRedirectUri: identity.signoutRedirectUrl }),
      })
      .catch(() => undefined);
  }
  const cookies = buildClearSessionCookies(ctx.hostname, identity.cookie);
  const next = endSession?.href ?? identity.signoutRedirectUrl;
  if (!prefersHtml(ctx.req.headers)) {
    respondJson(ctx, 200, { signed_out: true, logout_url: next ?? null }, { 'set-cookie': cookies });
    return;
  }
  if (next !== undefined) {
    redirectTo(ctx, next, cookies);
    return;
  }
  respond(ctx, 200, 'text/html; charset=utf-8', page('Signed out', '<p>You are signed out.</p>'), {
    ...PAGE_SECURITY,
    'set-cookie': cookies,
  });
}

export const signOutEndpoints: readonly Endpoint[] = [
  { method: 'GET', path: SIGN_OUT_PATH, handle: confirm },
  { method: 'POST', path: SIGN_OUT_PATH, handle: signOut },
];
