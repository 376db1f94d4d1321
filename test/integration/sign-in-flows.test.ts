/**
 * Where a sign-in begins and where its cookie ends up (DESIGN 4.1), with the real development IdP and a
 * real upstream: one cookie shared by the hosts under `cookie_domain` (or one per host without it), the
 * `authenticate_service_url` callback host, the cross-apex hand-off to a host outside `cookie_domain`,
 * and several sign-ins running at once in one browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffCodes } from '../../src/auth/handoff-code.js';
import { deriveAuthKeys } from '../../src/auth/secrets.js';
import { systemClock } from '../../src/shared/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { CookieJar, requestWithCookies, signInWithoutBrowser, type HttpAnswer } from '../harness/idp.js';
import { handoffCodeOf, handoffFixture, handoffHostOf } from '../harness/login-fixtures.js';
import {
  ALICE,
  APP,
  beginSignIn,
  errorCodeOf,
  identityConfig,
  navigate,
  NAVIGATION,
  sessionCookiesSet,
  signedInJar,
  signedInRoute,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

const API = 'api.example.test';
const AUTH = 'auth.example.test';
/** Outside `cookie_domain`: reached through the hand-off. */
const OTHER = 'other.test';

/** Each host is its own callback host; `cookie` is the `cookie_domain` line, if any. */
function perHostWorld(cookie: string): Promise<SignInWorld> {
  return startSignInWorld({
    callbackHosts: [APP, API],
    config: ({ issuer, upstream }) => {
      const routes = [APP, API].map((host) => signedInRoute(`http://${host}`, upstream)).join('');
      return identityConfig(issuer, `${cookie}routes:\n${routes}`);
    },
  });
}

let shared: SignInWorld;
let hostOnly: SignInWorld;
/** authenticate_service_url on auth.example.test, cookie_domain .example.test, a route outside it. */
let central: SignInWorld;

beforeAll(async () => {
  [shared, hostOnly, central] = await Promise.all([
    perHostWorld('cookie_domain: .example.test\n'),
    perHostWorld(''),
    startSignInWorld({
      callbackHosts: [AUTH],
      config: ({ issuer, port, upstream }) =>
        identityConfig(
          issuer,
          `authenticate_service_url: http://${AUTH}:${port}
cookie_domain: .example.test
routes:
${signedInRoute(`http://${APP}`, upstream)}${signedInRoute(`http://${OTHER}`, upstream)}`,
        ),
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([shared?.close(), hostOnly?.close(), central?.close()]);
});

/** One navigation step: the answer, and where its redirect points. */
async function step(url: URL, jar: CookieJar): Promise<{ answer: HttpAnswer; next: URL }> {
  const answer = await requestWithCookies(url, jar, { headers: NAVIGATION });
  const location = answer.headers.location;
  if (answer.status !== 302 || location === undefined) {
    throw new Error(
      `expected a redirect from ${url.href}, got ${answer.status}: ${answer.body.slice(0, 200)}`,
    );
  }
  return { answer, next: new URL(location, url) };
}

/** The `Domain` attribute of the session cookie a response sets; null when it is host-only. */
function sessionCookieDomain(answer: HttpAnswer): string | null {
  const header = (answer.headers['set-cookie'] ?? []).find((cookie) => /^_pomerium=[^;]+/.test(cookie));
  if (header === undefined) throw new Error('no session cookie was set');
  return /;\s*Domain=([^;]+)/i.exec(header)?.[1]?.toLowerCase() ?? null;
}

describe('cookie_domain', () => {
  it('shares one sign-in between the subdomains: api accepts the cookie set when signing in on app', async () => {
    const jar = await signedInJar(shared.url(APP, '/dashboard'), ALICE, shared.idp);
    const signIns = shared.idp.counters.tokenRequests('authorization_code');
    const token = jar.get(shared.url(APP), '_pomerium');
    expect(token).toBeDefined();
    expect(jar.get(shared.url(API), '_pomerium')).toBe(token);

    const answer = await requestWithCookies(shared.url(API, '/data'), jar, { headers: NAVIGATION });
    expect(answer.status).toBe(200);
    expect(shared.upstream.lastRequest()).toMatchObject({ url: '/data' });
    expect(shared.upstream.lastRequest().headers['x-forwarded-host']).toBe(`${API}:${shared.port}`);
    expect(shared.idp.counters.tokenRequests('authorization_code')).toBe(signIns);
  });

  it('without cookie_domain keeps the cookie on its host: api asks for its own sign-in', async () => {
    const jar = await signedInJar(hostOnly.url(APP, '/dashboard'), ALICE, hostOnly.idp);
    const appToken = jar.get(hostOnly.url(APP), '_pomerium');
    expect(appToken).toBeDefined();
    expect(jar.get(hostOnly.url(API), '_pomerium')).toBeUndefined();

    const answer = await requestWithCookies(hostOnly.url(API, '/data'), jar, { headers: NAVIGATION });
    expect(answer.status).toBe(302);
    expect(new URL(answer.headers.location ?? '').origin).toBe(new URL(hostOnly.idp.issuer).origin);

    // The IdP remembers alice, so the second sign-in needs no form; it yields api's own cookie.
    const visit = await navigate(hostOnly.url(API, '/data'), jar, ALICE, hostOnly.idp);
    expect(visit.answer.status).toBe(200);
    const apiToken = jar.get(hostOnly.url(API), '_pomerium');
    expect(apiToken).toBeDefined();
    expect(apiToken).not.toBe(appToken);
    expect(jar.get(hostOnly.url(APP), '_pomerium')).toBe(appToken);
  });
});

describe("a script's 401 returns to the page that made the call", () => {
  /** What fetch() from a page of `pageOrigin` sends across origins: Referer is the origin alone. */
  const scriptFrom = (referer: string) => ({
    accept: '*/*',
    'sec-fetch-mode': 'cors',
    origin: new URL(referer).origin,
    referer,
  });
  const loginUrlOf = (answer: HttpAnswer) =>
    new URL((JSON.parse(answer.body) as { login_url: string }).login_url);

  it('under one cookie_domain: signing in from api’s login_url lands back on app, signed in on both', async () => {
    const page = shared.url(APP, '/');
    const answer = await requestWithCookies(shared.url(API, '/data'), new CookieJar(), {
      headers: scriptFrom(page.href),
    });
    expect(answer.status).toBe(401);
    const jar = new CookieJar();
    const visit = await navigate(loginUrlOf(answer), jar, ALICE, shared.idp);
    expect(visit.url.href).toBe(page.href);
    expect(visit.answer.status).toBe(200);
    expect((await requestWithCookies(shared.url(API, '/data'), jar)).status).toBe(200);
  });

  it('without a shared cookie_domain (or from a page this Gatehouse does not serve) returns to the API URL', async () => {
    for (const [world, referer] of [
      [hostOnly, hostOnly.url(APP, '/').href],
      [shared, 'https://evil.example/'],
    ] as const) {
      const answer = await requestWithCookies(world.url(API, '/data?x=1'), new CookieJar(), {
        headers: scriptFrom(referer),
      });
      const visit = await navigate(loginUrlOf(answer), new CookieJar(), ALICE, world.idp);
      expect(visit.url.href).toBe(world.url(API, '/data?x=1').href);
    }
  });
});

describe('authenticate_service_url', () => {
  it('sends the sign-in through the callback host and back to the page, with a cookie for the domain', async () => {
    const jar = new CookieJar();
    const page = central.url(APP, '/reports/2026?sort=desc');
    const toStart = await step(page, jar);
    expect(toStart.next.origin).toBe(central.url(AUTH).origin);
    expect(toStart.next.pathname).toBe('/oauth2/start');
    // Nothing is stored and no cookie is set on the route host before the callback host takes over.
    expect(toStart.answer.headers['set-cookie']).toBeUndefined();

    const toIdp = await step(toStart.next, jar);
    expect(toIdp.next.origin).toBe(new URL(central.idp.issuer).origin);
    expect(toIdp.next.searchParams.get('redirect_uri')).toBe(central.url(AUTH, '/oauth2/callback').href);

    const callback = await signInWithoutBrowser(toIdp.next, ALICE, jar);
    expect(callback.origin).toBe(central.url(AUTH).origin);
    const back = await step(callback, jar);
    expect(back.next.href).toBe(page.href);
    expect(sessionCookieDomain(back.answer)).toBe('example.test');

    const landed = await requestWithCookies(back.next, jar, { headers: NAVIGATION });
    expect(landed.status).toBe(200);
    expect(central.upstream.lastRequest().url).toBe('/reports/2026?sort=desc');
  });

  it('leaves /oauth2/* on a route host to the upstream', async () => {
    const jar = await signedInJar(central.url(APP, '/'), ALICE, central.idp);
    for (const path of ['/oauth2/callback?code=abc&state=def', '/oauth2/start?login=x']) {
      const answer = await requestWithCookies(central.url(APP, path), jar, { headers: NAVIGATION });
      expect(answer.status).toBe(200);
      expect(central.upstream.lastRequest().url).toBe(path);
    }
  });
});

describe('cross-apex hand-off', () => {
  /** Signs in for a page on other.test up to the hand-off redirect, which is returned unfollowed. */
  async function handoffFor(page: URL, jar: CookieJar): Promise<URL> {
    const toStart = await step(page, jar);
    const toIdp = await step(toStart.next, jar);
    const callback = await signInWithoutBrowser(toIdp.next, ALICE, jar);
    const toHandoff = await step(callback, jar);
    expect(sessionCookiesSet(toHandoff.answer)).toEqual([]);
    return toHandoff.next;
  }

  const onOther = (path: string, host: string = OTHER) =>
    requestWithCookies(central.url(OTHER, path), new CookieJar(), {
      headers: { ...NAVIGATION, host: host.includes(':') ? host : `${host}:${central.port}` },
    });

  it('sets a host-only cookie on the route host through a single-use code and returns to the page', async () => {
    const jar = new CookieJar();
    const page = central.url(OTHER, '/inbox?folder=2');
    const handoff = await handoffFor(page, jar);
    expect(handoff.origin).toBe(central.url(OTHER).origin);
    expect(handoff.pathname).toBe('/.pomerium/callback');
    expect(handoff.searchParams.get('code')).toMatch(/^[\w-]+\.[\w-]+$/);

    const redeemed = await step(handoff, jar);
    expect(redeemed.next.href).toBe(page.href);
    expect(sessionCookieDomain(redeemed.answer)).toBeNull();
    expect(jar.get(central.url(OTHER), '_pomerium')).toBeDefined();
    expect(jar.get(central.url(`www.${OTHER}`), '_pomerium')).toBeUndefined();

    const landed = await requestWithCookies(page, jar, { headers: NAVIGATION });
    expect(landed.status).toBe(200);
    expect(central.upstream.lastRequest().url).toBe('/inbox?folder=2');

    const replayed = await requestWithCookies(handoff, new CookieJar(), { headers: NAVIGATION });
    expect(replayed.status).toBe(400);
    expect(errorCodeOf(replayed)).toBe('ERR_HANDOFF_INVALID');
    expect(sessionCookiesSet(replayed)).toEqual([]);
    expect(central.upstream.requests.some((request) => request.url.includes('/.pomerium/'))).toBe(false);
  });

  it('refuses forged, altered and misdirected codes without using up the genuine one', async () => {
    const genuine = (await handoffFor(central.url(OTHER, '/forged'), new CookieJar())).searchParams.get(
      'code',
    );
    if (genuine === null) throw new Error('the hand-off carried no code');
    const otherSecret = await new HandoffCodes({
      store: new MemoryStore({ clock: systemClock }),
      keys: deriveAuthKeys({
        sharedSecret: new Uint8Array(32).fill(1),
        previousSharedSecrets: [],
        cookieSecret: new Uint8Array(32).fill(2),
      }),
    }).issueHandoff({ sessionToken: 'a.b.c', returnUrl: central.url(OTHER, '/').href }, OTHER);
    const seenBefore = central.upstream.requests.length;

    for (const attack of handoffFixture.cases) {
      // The fixture's route host is app.other-apex.test; here it is other.test.
      const host = handoffHostOf(attack).replace(handoffFixture.issuedFor, OTHER);
      const code = handoffCodeOf(attack, genuine, otherSecret);
      const path =
        code === undefined ? '/.pomerium/callback' : `/.pomerium/callback?code=${encodeURIComponent(code)}`;
      const answer = await onOther(path, host);
      expect([attack.name, answer.status, errorCodeOf(answer)]).toEqual([
        attack.name,
        400,
        'ERR_HANDOFF_INVALID',
      ]);
      expect(sessionCookiesSet(answer)).toEqual([]);
    }
    expect(central.upstream.requests.length).toBe(seenBefore);

    const answer = await onOther(`/.pomerium/callback?code=${encodeURIComponent(genuine)}`);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(central.url(OTHER, '/forged').href);
    expect(sessionCookiesSet(answer)).toHaveLength(1);
  });
});

describe('several tabs signing in at once', () => {
  it('completes each sign-in, in any order, back to its own page, and leaves no CSRF cookie', async () => {
    const jar = new CookieJar();
    const pages = ['/one', '/two?tab=2', '/three#x'].map((path) => central.url(APP, path));
    const authorizations = await Promise.all(pages.map((page) => beginSignIn(page, jar, central)));
    expect(new Set(authorizations.map((url) => url.searchParams.get('state'))).size).toBe(3);
    expect(jar.header(central.url(AUTH, '/oauth2/callback'))?.match(/_pomerium_csrf_/g)).toHaveLength(3);

    for (const index of [1, 2, 0]) {
      const authorization = authorizations[index];
      const page = pages[index];
      if (authorization === undefined || page === undefined) throw new TypeError('three tabs');
      const callback = await signInWithoutBrowser(authorization, ALICE, jar);
      const visit = await navigate(callback, jar, ALICE, central.idp);
      expect(visit.answer.status).toBe(200);
      // A fragment never reaches the server, so the page comes back without it.
      expect(visit.url.href).toBe(page.href.replace(/#.*$/, ''));
    }
    for (const host of [APP, AUTH, OTHER]) {
      expect(jar.header(central.url(host, '/oauth2/callback')) ?? '').not.toContain('_pomerium_csrf_');
    }
    expect(jar.get(central.url(APP), '_pomerium')).toBeDefined();
  });
});
