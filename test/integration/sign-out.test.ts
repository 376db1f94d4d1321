/**
 * `/.pomerium/sign_out` (DESIGN 4.2) with the real development IdP: a confirmation page on GET, and on POST
 * the session ended for the cookie and every header token, the refresh token revoked at the IdP, and the
 * browser sent through the IdP's end_session_endpoint to signout_redirect_url. A cookie sign-out started
 * by another site is refused; a script holding the token gets JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, requestWithCookies, signOutWithoutBrowser, type HttpAnswer } from '../harness/idp.js';
import {
  ALICE,
  APP,
  errorCodeOf,
  identityConfig,
  NAVIGATION,
  signedInRoute,
  signedInSession,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

const SIGN_OUT = '/.pomerium/sign_out';
const JSON_CLIENT = { accept: 'application/json' } as const;

let world: SignInWorld;
const signedOutPage = (port: number) => `http://${APP}:${port}/signed-out`;

beforeAll(async () => {
  world = await startSignInWorld({
    callbackHosts: [APP],
    postLogoutRedirects: (port) => [signedOutPage(port)],
    config: ({ issuer, port, upstream }) =>
      identityConfig(
        issuer,
        `signout_redirect_url: ${signedOutPage(port)}
routes:
${signedInRoute(`http://${APP}`, upstream)}`,
      ),
  });
});

afterAll(async () => {
  await world?.close();
});

/** A form on the site's own page submitting the sign-out: a same-origin navigation. */
function submittedFromTheSite(): Record<string, string> {
  return { ...NAVIGATION, 'sec-fetch-site': 'same-origin', origin: world.url(APP).origin };
}

const signedIn = () => signedInSession(world.url(APP, '/'), ALICE, world.idp);

/** What a script presenting `headers` gets from a protected page. */
function fetchPage(headers: Record<string, string>): Promise<HttpAnswer> {
  return requestWithCookies(world.url(APP, '/api/me'), new CookieJar(), {
    headers: { ...JSON_CLIENT, ...headers },
  });
}

function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('sign-out in a browser', () => {
  it('shows a confirmation form on GET and signs nobody out', async () => {
    const { jar } = await signedIn();
    const page = await requestWithCookies(world.url(APP, SIGN_OUT), jar, { headers: NAVIGATION });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain(`<form method="post" action="${SIGN_OUT}">`);
    expect(page.headers['set-cookie']).toBeUndefined();
    expect((await requestWithCookies(world.url(APP, '/'), jar, { headers: NAVIGATION })).status).toBe(200);
  });

  it('ends the session, revokes at the IdP and goes through end_session to signout_redirect_url', async () => {
    const { jar, token } = await signedIn();
    const revocations = world.idp.counters.revocationRequests();

    const answer = await requestWithCookies(world.url(APP, SIGN_OUT), jar, {
      method: 'POST',
      headers: submittedFromTheSite(),
    });
    expect(answer.status).toBe(302);
    const endSession = new URL(answer.headers.location ?? '');
    expect(endSession.origin).toBe(new URL(world.idp.issuer).origin);
    expect(endSession.pathname).toBe('/session/end');
    expect(claimsOf(endSession.searchParams.get('id_token_hint') ?? '')).toMatchObject({
      sub: ALICE,
      aud: 'gatehouse',
    });
    expect(jar.get(world.url(APP), '_pomerium')).toBeUndefined();
    expect(world.idp.counters.revocationRequests()).toBe(revocations + 1);

    const end = await signOutWithoutBrowser(endSession, jar);
    expect(`${end.origin}${end.pathname}`).toBe(signedOutPage(world.port));

    // Neither the old cookie nor the same token in a header opens anything any more.
    for (const headers of [{ cookie: `_pomerium=${token}` }, { 'x-pomerium-authorization': token }]) {
      const after = await fetchPage(headers);
      expect(after.status).toBe(401);
      expect(errorCodeOf(after)).toBe('ERR_UNAUTHENTICATED');
    }
  });

  it('refuses a cookie sign-out another site starts, and the session goes on', async () => {
    const { jar } = await signedIn();
    const revocations = world.idp.counters.revocationRequests();
    const crossSite = [
      { ...NAVIGATION, 'sec-fetch-site': 'cross-site', origin: 'http://evil.test' },
      // Over plain http browsers send no Fetch metadata; the foreign Origin tells.
      { accept: 'text/html', origin: 'http://evil.test' },
      { accept: 'text/html', origin: `http://${APP}.evil.test:${world.port}` },
    ];
    for (const headers of crossSite) {
      const answer = await requestWithCookies(world.url(APP, SIGN_OUT), jar, { method: 'POST', headers });
      expect(answer.status).toBe(403);
      expect(errorCodeOf(answer)).toBe('ERR_SIGN_OUT_CROSS_SITE');
      expect(answer.headers.location).toBeUndefined();
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(world.idp.counters.revocationRequests()).toBe(revocations);
    expect((await requestWithCookies(world.url(APP, '/'), jar, { headers: NAVIGATION })).status).toBe(200);
  });
});

describe('sign-out by a script holding the token', () => {
  it('answers JSON with the IdP logout URL and ends the session', async () => {
    const { token } = await signedIn();
    const revocations = world.idp.counters.revocationRequests();

    const answer = await requestWithCookies(world.url(APP, SIGN_OUT), new CookieJar(), {
      method: 'POST',
      headers: { ...JSON_CLIENT, 'x-pomerium-authorization': token },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(answer.body) as { signed_out: boolean; logout_url: string };
    expect(body.signed_out).toBe(true);
    const logout = new URL(body.logout_url);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${new URL(world.idp.issuer).origin}/session/end`);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(signedOutPage(world.port));
    expect(world.idp.counters.revocationRequests()).toBe(revocations + 1);

    expect((await fetchPage({ 'x-pomerium-authorization': token })).status).toBe(401);
  });
});
