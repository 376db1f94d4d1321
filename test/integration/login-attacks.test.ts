/**
 * Attacks on signing in, over HTTP through Gatehouse with the real development IdP: hostile callbacks to
 * `/oauth2/callback` (test/fixtures/login/callback-attacks.json), replayed states and authorization codes,
 * a sign-in the user cancelled at the IdP, `/.pomerium/sign_in` asked to return to a page no route serves
 * (test/fixtures/login/sign-in-return-urls.json), and response splitting through every URL a sign-in
 * carries (test/fixtures/login/crlf-attacks.json), checked on the raw bytes of the responses.
 *
 * A refused callback sets no session cookie, leaves the upstream untouched and redeems no code.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CookieJar, requestWithCookies, signInWithoutBrowser, type HttpAnswer } from '../harness/idp.js';
import { callbackAttacks, callbackOf, type TwoLogins } from '../harness/login-fixtures.js';
import {
  ALICE,
  APP,
  beginSignIn,
  cancelSignInWithoutBrowser,
  errorCodeOf,
  identityConfig,
  navigate,
  NAVIGATION,
  sessionCookiesSet,
  signedInRoute,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

const CSRF_COOKIE = '_pomerium_csrf_';
const STATE = /^[A-Za-z0-9_-]{22}$/;

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/login/${name}`, import.meta.url), 'utf8')) as T;
}

const returnUrlCases = readFixture<{ cases: { note: string; uri: string }[] }>(
  'sign-in-return-urls.json',
).cases;
const crlfCases = readFixture<{ cases: { name: string; payload: string }[] }>('crlf-attacks.json').cases;

let world: SignInWorld;

beforeAll(async () => {
  world = await startSignInWorld({
    callbackHosts: [APP],
    config: ({ issuer, upstream }) =>
      identityConfig(issuer, `routes:\n${signedInRoute(`http://${APP}`, upstream)}`),
  });
});

afterAll(async () => {
  await world?.close();
});

/** The state of a begun sign-in and the CSRF cookie this browser holds for it. */
function transactionOf(authorization: URL, jar: CookieJar): { state: string; csrfCookieValue: string } {
  const state = authorization.searchParams.get('state') ?? '';
  const csrfCookieValue = jar.get(world.url(APP, '/oauth2/callback'), `${CSRF_COOKIE}${state}`);
  if (csrfCookieValue === undefined) throw new Error('beginning a sign-in set no CSRF cookie');
  return { state, csrfCookieValue };
}

/** `/oauth2/callback` as the IdP's redirect would reach it, with exactly this Cookie header. */
function callback(query: URLSearchParams, cookie: string | undefined): Promise<HttpAnswer> {
  return requestWithCookies(world.url(APP, `/oauth2/callback?${query.toString()}`), new CookieJar(), {
    headers: { ...NAVIGATION, 'sec-fetch-site': 'cross-site', ...(cookie === undefined ? {} : { cookie }) },
  });
}

function expectRefusedLogin(answer: HttpAnswer, code: string, status = 400): void {
  expect([answer.status, errorCodeOf(answer)]).toEqual([status, code]);
  expect(sessionCookiesSet(answer)).toEqual([]);
  expect(answer.headers.location).toBeUndefined();
}

/** Nothing a refused sign-in does may reach the upstream or redeem a code at the IdP. */
function watchSideEffects(): { upstream: number; codes: number } {
  const seen = { upstream: 0, codes: 0 };
  beforeEach(() => {
    seen.upstream = world.upstream.requests.length;
    seen.codes = world.idp.counters.tokenRequests('authorization_code');
  });
  afterEach(() => {
    expect(world.upstream.requests.length).toBe(seen.upstream);
  });
  return seen;
}

describe('hostile callbacks (callback-attacks.json)', () => {
  const seen = watchSideEffects();
  let logins: TwoLogins;
  /** The genuine browser's callback from the IdP, code and all, not yet delivered. */
  let genuineCallback: URL;

  beforeAll(async () => {
    const jar = new CookieJar();
    const authorization = await beginSignIn(world.url(APP, '/page'), jar, world);
    const attackerJar = new CookieJar();
    logins = {
      genuine: transactionOf(authorization, jar),
      other: transactionOf(await beginSignIn(world.url(APP, '/'), attackerJar, world), attackerJar),
    };
    genuineCallback = await signInWithoutBrowser(authorization, ALICE, jar);
  });

  it.each(callbackAttacks)('refuses $name with $expect', async (attack) => {
    const { state, csrfCookieValue } = callbackOf(attack, logins);
    const query = new URLSearchParams({ code: genuineCallback.searchParams.get('code') ?? '' });
    if (state !== undefined) query.set('state', state);
    // The cookie is named after the state sent, as a browser planting it for this callback would send it.
    const cookieState = state !== undefined && STATE.test(state) ? state : logins.genuine.state;
    const cookie =
      csrfCookieValue === undefined ? undefined : `${CSRF_COOKIE}${cookieState}=${csrfCookieValue}`;
    expectRefusedLogin(await callback(query, cookie), attack.expect);
    expect(world.idp.counters.tokenRequests('authorization_code')).toBe(seen.codes);
  });

  it('still lets the genuine browser complete its sign-in, once: a replayed state is refused', async () => {
    const cookie = `${CSRF_COOKIE}${logins.genuine.state}=${logins.genuine.csrfCookieValue}`;
    const completed = await callback(genuineCallback.searchParams, cookie);
    expect(completed.status).toBe(302);
    expect(completed.headers.location).toBe(world.url(APP, '/page').href);
    expect(sessionCookiesSet(completed)).toHaveLength(1);

    expectRefusedLogin(await callback(genuineCallback.searchParams, cookie), 'ERR_LOGIN_STATE_INVALID');
    expect(world.idp.counters.tokenRequests('authorization_code')).toBe(seen.codes + 1);
  });
});

describe('replays and refusals at the IdP', () => {
  const seen = watchSideEffects();

  it('refuses an authorization code already redeemed, sent with another sign-in', async () => {
    const jar = new CookieJar();
    const first = await signInWithoutBrowser(await beginSignIn(world.url(APP, '/a'), jar, world), ALICE, jar);
    const done = await requestWithCookies(first, jar, { headers: NAVIGATION });
    expect(done.status).toBe(302);
    const failedBefore = world.idp.counters.failedTokenRequests('authorization_code');

    // Someone who got hold of the code sends it with a sign-in of their own: its state and CSRF cookie.
    const attackerJar = new CookieJar();
    const second = await beginSignIn(world.url(APP, '/b'), attackerJar, world);
    const replay = new URL(first);
    replay.searchParams.set('state', second.searchParams.get('state') ?? '');
    const answer = await requestWithCookies(replay, attackerJar, { headers: NAVIGATION });
    expectRefusedLogin(answer, 'ERR_LOGIN_FAILED');
    expect(world.idp.counters.failedTokenRequests('authorization_code')).toBe(failedBefore + 1);
    expect(world.idp.counters.tokenRequests('authorization_code')).toBe(seen.codes + 2);
  });

  it('answers a sign-in cancelled at the IdP (error=access_denied) with ERR_LOGIN_DENIED', async () => {
    const jar = new CookieJar();
    const authorization = await beginSignIn(world.url(APP, '/cancelled'), jar, world);
    const back = await cancelSignInWithoutBrowser(authorization, jar);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(authorization.searchParams.get('state'));

    const answer = await requestWithCookies(back, jar, { headers: NAVIGATION });
    expectRefusedLogin(answer, 'ERR_LOGIN_DENIED', 403);
    expect(jar.get(world.url(APP), '_pomerium')).toBeUndefined();
    // The transaction is used up: the same answer again is a stale state.
    expectRefusedLogin(
      await requestWithCookies(back, jar, { headers: NAVIGATION }),
      'ERR_LOGIN_STATE_INVALID',
    );
    expect(world.idp.counters.tokenRequests('authorization_code')).toBe(seen.codes);
  });
});

describe('/.pomerium/sign_in return URLs (sign-in-return-urls.json)', () => {
  const signIn = (uri: string) =>
    requestWithCookies(
      world.url(APP, `/.pomerium/sign_in?${new URLSearchParams({ pomerium_redirect_uri: uri }).toString()}`),
      new CookieJar(),
      { headers: NAVIGATION },
    );

  it('signs in and returns to a page a route serves', async () => {
    const page = world.url(APP, '/after?x=1');
    const jar = new CookieJar();
    const start = world.url(
      APP,
      `/.pomerium/sign_in?${new URLSearchParams({ pomerium_redirect_uri: page.href }).toString()}`,
    );
    const visit = await navigate(start, jar, ALICE, world.idp);
    expect(visit.url.href).toBe(page.href);
    expect(visit.answer.status).toBe(200);
    expect(world.upstream.lastRequest().url).toBe('/after?x=1');
  });

  describe('refusals', () => {
    watchSideEffects();

    it.each(returnUrlCases)('refuses $note: $uri', async ({ uri }) => {
      const answer = await signIn(uri.replaceAll('{port}', String(world.port)));
      expectRefusedLogin(answer, 'ERR_LOGIN_REDIRECT_INVALID');
      expect(answer.headers['set-cookie']).toBeUndefined();
    });
  });
});

interface RawAnswer {
  readonly status: number;
  /** The response head as sent, CRLF line ends included. */
  readonly head: string;
  /** Every byte of the response, head and body. */
  readonly raw: string;
  readonly headers: Map<string, string[]>;
}

/** One request on a fresh connection; the response is read as bytes, before any HTTP parser sees it. */
function rawRequest(url: URL, headers: Record<string, string | undefined>): Promise<RawAnswer> {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port: Number(url.port) }, () => {
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const head = raw.slice(0, raw.indexOf('\r\n\r\n') + 2);
      const parsed = new Map<string, string[]>();
      for (const line of head.split('\r\n').slice(1, -1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        parsed.set(name, [...(parsed.get(name) ?? []), line.slice(colon + 1).trim()]);
      }
      resolve({ status: Number(head.slice(9, 12)), head, raw, headers: parsed });
    });
  });
}

/** The response is one response, every head line a `name: value` pair, and none of them injected. */
function expectUnsplit(answer: RawAnswer): void {
  expect(answer.head).toMatch(/^HTTP\/1\.1 \d{3} [^\r\n]*\r\n/);
  expect(answer.raw.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
  const lines = answer.head.split('\r\n').slice(1, -1);
  for (const line of lines) expect(line).toMatch(/^[!#$%&'*+.^`|~\w-]+: [^\r\n]*$/);
  // A CR or LF that is not part of a line end would be read as one by some parser.
  expect(answer.head.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
  expect(answer.headers.has('x-injected')).toBe(false);
  for (const cookie of answer.headers.get('set-cookie') ?? []) expect(cookie).not.toContain('planted');
  expect(answer.status).not.toBeGreaterThanOrEqual(500);
}

/** Completes a sign-in begun by `authorization` and returns the raw answer of Gatehouse's callback. */
async function rawCallback(authorization: URL, jar: CookieJar): Promise<RawAnswer> {
  const callbackUrl = await signInWithoutBrowser(authorization, ALICE, jar);
  const answer = await rawRequest(callbackUrl, { cookie: jar.header(callbackUrl) });
  jar.store(callbackUrl, answer.headers.get('set-cookie') ?? []);
  return answer;
}

describe.each(crlfCases)('response splitting: $name', ({ payload }) => {
  it('through the path of a page that starts a sign-in', async () => {
    const jar = new CookieJar();
    const page = world.url(APP, `/page${payload}`);
    const first = await rawRequest(page, { ...NAVIGATION });
    expectUnsplit(first);
    expect(first.status).toBe(302);
    jar.store(page, first.headers.get('set-cookie') ?? []);

    const back = await rawCallback(new URL(first.headers.get('location')?.[0] ?? ''), jar);
    expectUnsplit(back);
    expect(back.status).toBe(302);
    // The path comes back as the proxy normalized it: escapes kept, their hex digits in upper case.
    const normalized = payload.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase());
    expect(back.headers.get('location')).toEqual([`${world.url(APP, '/page').href}${normalized}`]);
  });

  it('through the query of a page that starts a sign-in', async () => {
    const jar = new CookieJar();
    const page = world.url(APP, `/page?next=${payload}`);
    const first = await rawRequest(page, { ...NAVIGATION });
    expectUnsplit(first);
    jar.store(page, first.headers.get('set-cookie') ?? []);
    const back = await rawCallback(new URL(first.headers.get('location')?.[0] ?? ''), jar);
    expectUnsplit(back);
    expect(back.headers.get('location')).toEqual([`${world.url(APP, '/page').href}?next=${payload}`]);
  });

  it('through the pomerium_redirect_uri of /.pomerium/sign_in', async () => {
    const target = `${world.url(APP, '/x').href}${payload}`;
    const answer = await rawRequest(world.url(APP, `/.pomerium/sign_in?pomerium_redirect_uri=${target}`), {
      ...NAVIGATION,
    });
    expectUnsplit(answer);
    if (answer.status === 400) return;
    expect(answer.status).toBe(302);
    const jar = new CookieJar();
    jar.store(world.url(APP), answer.headers.get('set-cookie') ?? []);
    expectUnsplit(await rawCallback(new URL(answer.headers.get('location')?.[0] ?? ''), jar));
  });

  it('through the pomerium_redirect_uri of /.pomerium/api/v1/login', async () => {
    const target = `http://localhost:1234/cb${payload}`;
    const answer = await rawRequest(
      world.url(APP, `/.pomerium/api/v1/login?pomerium_redirect_uri=${target}`),
      {
        accept: '*/*',
      },
    );
    expectUnsplit(answer);
    if (answer.status === 400) return;
    expect(answer.status).toBe(200);
    const jar = new CookieJar();
    const authorization = await beginSignIn(new URL(answer.raw.slice(answer.head.length + 2)), jar, world);
    const back = await rawCallback(authorization, jar);
    expectUnsplit(back);
    expect(back.headers.get('location')?.[0]).toMatch(/^http:\/\/localhost:1234\/cb.*pomerium_jwt=/);
  });
});
