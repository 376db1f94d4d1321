/**
 * Programmatic login (`/.pomerium/api/v1/login?pomerium_redirect_uri=…`, DESIGN 4.2) with the real
 * development IdP: a CLI gets a login URL, the user signs in in a browser, and the browser lands on the
 * CLI's loopback listener with `pomerium_jwt`, a session token the CLI then sends as a header. Every URI
 * the allowlist refuses (test/fixtures/open-redirect.json and test/fixtures/login/programmatic-redirects.json)
 * gets a 400 and no redirect, over HTTP, under the allowlist the case names.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, requestWithCookies, signInWithoutBrowser, type HttpAnswer } from '../harness/idp.js';
import {
  ALICE,
  APP,
  beginSignIn,
  errorCodeOf,
  identityConfig,
  navigateUntilLeaving,
  requestWithToken,
  signedInRoute,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

const CLI = 'http://localhost:1234/cb';

type RedirectCase = { note: string; uri: string; allowedHosts: string[] } & (
  { allowed: true; href: string } | { allowed: false; refusal: string }
);

function readCases(path: string, key: string): RedirectCase[] {
  const fixture = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<
    string,
    RedirectCase[]
  >;
  return fixture[key] ?? [];
}

const redirectCases = [
  ...readCases('../fixtures/open-redirect.json', 'programmaticRedirect'),
  ...readCases('../fixtures/login/programmatic-redirects.json', 'cases'),
];

/** The cases by the allowlist they are judged under, so each list is configured once. */
const byAllowlist = [...new Set(redirectCases.map((item) => JSON.stringify(item.allowedHosts)))].map(
  (key) => ({
    allowlist: JSON.parse(key) as string[],
    cases: redirectCases.filter((item) => JSON.stringify(item.allowedHosts) === key),
  }),
);

let world: SignInWorld;
/** The config with this `programmatic_redirect_domain_whitelist`, or the default (localhost). */
let configWith: (allowlist?: readonly string[]) => string;

beforeAll(async () => {
  world = await startSignInWorld({
    callbackHosts: [APP],
    config: ({ issuer, upstream }) => {
      configWith = (allowlist) =>
        identityConfig(
          issuer,
          `${allowlist === undefined ? '' : `programmatic_redirect_domain_whitelist: ${JSON.stringify(allowlist)}\n`}routes:
${signedInRoute(`http://${APP}`, upstream)}`,
        );
      return configWith();
    },
  });
});

afterAll(async () => {
  await world?.close();
});

/** What a CLI asking for a login URL gets. */
function askForLoginUrl(redirectUri: string | undefined): Promise<HttpAnswer> {
  const query =
    redirectUri === undefined
      ? ''
      : `?${new URLSearchParams({ pomerium_redirect_uri: redirectUri }).toString()}`;
  return requestWithCookies(world.url(APP, `/.pomerium/api/v1/login${query}`), new CookieJar(), {
    headers: { accept: '*/*' },
  });
}

/** The login URL the CLI prints; fails the test when there is none. */
async function loginUrlFor(redirectUri: string): Promise<URL> {
  const answer = await askForLoginUrl(redirectUri);
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toMatch(/^text\/plain/);
  return new URL(answer.body);
}

function expectRefused(answer: HttpAnswer, refusal?: string): void {
  expect(answer.status).toBe(400);
  expect(errorCodeOf(answer)).toBe('ERR_LOGIN_REDIRECT_INVALID');
  expect(answer.headers.location).toBeUndefined();
  expect(answer.body).not.toContain('/oauth2/start');
  if (refusal !== undefined) {
    expect((JSON.parse(answer.body) as { message: string }).message).toContain(refusal);
  }
}

describe('programmatic login', () => {
  it('ends at the redirect URI with pomerium_jwt, a token that opens protected routes', async () => {
    const loginUrl = await loginUrlFor(`${CLI}?cli=7`);
    expect(`${loginUrl.origin}${loginUrl.pathname}`).toBe(world.url(APP, '/oauth2/start').href);

    const jar = new CookieJar();
    const { left } = await navigateUntilLeaving(loginUrl, jar, ALICE, world);
    expect(`${left.origin}${left.pathname}`).toBe(CLI);
    expect(left.searchParams.get('cli')).toBe('7');
    const token = left.searchParams.get('pomerium_jwt');
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The token goes to the CLI alone: the browser keeps no session and no sign-in cookie.
    for (const path of ['/', '/oauth2/callback']) expect(jar.header(world.url(APP, path))).toBeUndefined();

    const answer = await requestWithToken(world.url(APP, '/api/me'), token ?? '');
    expect(answer.status).toBe(200);
    expect(world.upstream.lastRequest().url).toBe('/api/me');
    expect(world.upstream.lastRequest().headers['x-pomerium-authorization']).toBeUndefined();
  });

  it('needs a pomerium_redirect_uri', async () => {
    expectRefused(await askForLoginUrl(undefined), 'is required');
  });

  it('checks the allowlist again when the sign-in completes', async () => {
    const jar = new CookieJar();
    const authorization = await beginSignIn(await loginUrlFor(CLI), jar, world);
    await world.gatehouse.reload(configWith(['cli.example.com']));
    try {
      const callback = await signInWithoutBrowser(authorization, ALICE, jar);
      const answer = await requestWithCookies(callback, jar, { headers: { accept: 'application/json' } });
      expectRefused(answer, 'not in programmatic_redirect_domain_whitelist');
      expect(answer.body).not.toMatch(/pomerium_jwt/);
    } finally {
      await world.gatehouse.reload(configWith());
    }
  });
});

describe.each(byAllowlist)('pomerium_redirect_uri under the allowlist $allowlist', ({ allowlist, cases }) => {
  beforeAll(async () => {
    await world.gatehouse.reload(configWith(allowlist));
  });

  afterAll(async () => {
    await world.gatehouse.reload(configWith());
  });

  afterEach(() => {
    expect(world.upstream.requests.every((request) => !request.url.includes('.pomerium'))).toBe(true);
  });

  const refused = cases.flatMap((item) => (item.allowed ? [] : [item]));
  const allowed = cases.flatMap((item) => (item.allowed ? [item] : []));

  if (refused.length > 0) {
    it.each(refused)('refuses $note: $uri', async ({ uri, refusal }) => {
      expectRefused(await askForLoginUrl(uri), refusal);
    });
  }

  if (allowed.length > 0) {
    it.each(allowed)('accepts $note: $uri, and sends the token to $href', async ({ uri, href }) => {
      const loginUrl = await loginUrlFor(uri);
      // Only a URI the check rewrote needs the round trip: the host that was checked is the one sent.
      if (href === uri) return;
      const { left } = await navigateUntilLeaving(loginUrl, new CookieJar(), ALICE, world);
      const sent = new URL(left);
      sent.searchParams.delete('pomerium_jwt');
      expect(sent.href).toBe(href);
    });
  }
});
