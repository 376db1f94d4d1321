/**
 * CORS on protected routes, with the development IdP, a real upstream that records what reached it, and
 * sessions made by signing in (DESIGN 4.3 and 5): preflights answered before authentication and never
 * forwarded or redirected; an OPTIONS that is not a preflight authenticated like any request; the 401 an
 * SPA on another origin can read (with the login_url that signs it in), the 403, /.pomerium/user and
 * sign-out carrying the route's CORS headers; header-token mode; and Pomerium's `cors_allow_preflight`
 * forwarding unauthenticated preflights to the upstream while everything else still needs a session.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessControlHeaders } from '../harness/cors.js';
import { CookieJar, requestWithCookies, type HttpAnswer } from '../harness/idp.js';
import {
  ALICE,
  ALICE_EMAIL,
  BOB,
  identityConfig,
  navigate,
  NAVIGATION,
  signedInJar,
  signedInSession,
  startSignInWorld,
  type SignInWorld,
} from '../harness/sign-in.js';

/** The SPA's host; its origin includes Gatehouse's port, known once the world starts. */
const SPA = 'app.example.test';
const API = 'api.example.test';
const REDIRECT = 'redirect.example.test';
const POMERIUM = 'pomerium.example.test';
const STRICT = 'strict.example.test';

/** Answers a preflight itself, as an upstream behind Pomerium's `cors_allow_preflight` does; else echoes. */
function upstreamHandler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
    res
      .writeHead(204, {
        'access-control-allow-origin': 'https://upstream-said.example',
        'access-control-allow-methods': 'PUT',
        'access-control-allow-credentials': 'true',
        'x-answered-by': 'upstream',
      })
      .end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method }));
}

let world: SignInWorld;
let spaOrigin: string;
let alice: CookieJar;
let aliceToken: string;
let bob: CookieJar;

const corsBlock = (origin: string) => `    cors:
      allowed_origins: ["${origin}"]
      allowed_methods: [GET, POST, PUT, DELETE]
      allowed_headers: [Content-Type, X-Pomerium-Authorization]
      exposed_headers: [X-Request-Id]
      allow_credentials: true
`;

beforeAll(async () => {
  world = await startSignInWorld({
    callbackHosts: [API, POMERIUM],
    upstreamHandler,
    config: ({ issuer, port, upstream }) => {
      const origin = `http://${SPA}:${port}`;
      return identityConfig(
        issuer,
        `routes:
  - from: http://${API}
    prefix: /admin
    to: ${upstream}
    allowed_users: [${ALICE_EMAIL}]
${corsBlock(origin)}  - from: http://${API}
    to: ${upstream}
    allow_any_authenticated_user: true
${corsBlock(origin)}  - from: http://${REDIRECT}
    to: ${upstream}
    allow_any_authenticated_user: true
    auth_mode: redirect
${corsBlock(origin)}  - from: http://${POMERIUM}
    to: ${upstream}
    allow_any_authenticated_user: true
    cors_allow_preflight: true
    set_response_headers:
      Access-Control-Allow-Origin: ${origin}
      Access-Control-Allow-Credentials: "true"
  - from: http://${STRICT}
    to: ${upstream}
    allow_any_authenticated_user: true
`,
      );
    },
  });
  spaOrigin = `http://${SPA}:${world.port}`;
  const session = await signedInSession(world.url(API, '/'), ALICE, world.idp);
  alice = session.jar;
  aliceToken = session.token;
  bob = await signedInJar(world.url(API, '/'), BOB, world.idp);
});

afterAll(async () => {
  await world?.close();
});

/** A script's request from `origin` (the SPA's unless given), with the jar's cookies. */
function fetchFrom(
  host: string,
  path: string,
  jar: CookieJar,
  init: { method?: string; origin?: string | null; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const origin = init.origin === undefined ? spaOrigin : init.origin;
  return requestWithCookies(world.url(host, path), jar, {
    method: init.method ?? 'GET',
    headers: {
      accept: '*/*',
      'sec-fetch-mode': 'cors',
      'sec-fetch-site': 'same-site',
      ...(origin === null ? {} : { origin }),
      ...init.headers,
    },
  });
}

/** A browser's preflight from the SPA: no cookie is ever sent on one. */
function preflightTo(host: string, path: string, method: string, headers: Record<string, string> = {}) {
  return requestWithCookies(world.url(host, path), new CookieJar(), {
    method: 'OPTIONS',
    headers: {
      origin: spaOrigin,
      'access-control-request-method': method,
      accept: '*/*',
      'sec-fetch-mode': 'cors',
      ...headers,
    },
  });
}

/** The CORS headers the SPA's origin gets on every actual answer of the api routes. */
function allowedHeaders(): Record<string, string> {
  return {
    'access-control-allow-origin': spaOrigin,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'X-Request-Id',
  };
}

function expectNoneReached(before: number): void {
  expect(world.upstream.requests.length, 'the upstream saw the request').toBe(before);
}

describe('preflights on a protected route', () => {
  it('are answered 204 before authentication, never forwarded', async () => {
    const before = world.upstream.requests.length;
    const answer = await preflightTo(API, '/items', 'PUT', {
      'access-control-request-headers': 'content-type',
    });
    expect(answer.status).toBe(204);
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': spaOrigin,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'PUT',
      'access-control-allow-headers': 'content-type',
    });
    expect(answer.headers['www-authenticate']).toBeUndefined();
    expectNoneReached(before);
  });

  it('are answered on a route only alice may use, whoever asks', async () => {
    const before = world.upstream.requests.length;
    expect((await preflightTo(API, '/admin/x', 'DELETE')).status).toBe(204);
    expectNoneReached(before);
  });

  it('are refused 403, not 401, when the policy does not allow them', async () => {
    const answer = await preflightTo(API, '/items', 'PATCH');
    expect(answer.status).toBe(403);
    expect(accessControlHeaders(answer.headers)).toEqual({});
    expect(answer.headers['www-authenticate']).toBeUndefined();
  });

  it('are never redirected to sign in, even on an auth_mode: redirect route asking for HTML', async () => {
    const answer = await preflightTo(REDIRECT, '/page', 'PUT', { accept: NAVIGATION.accept });
    expect(answer.status).toBe(204);
    expect(answer.headers.location).toBeUndefined();
  });

  it('ignore an invalid session cookie, which a preflight would not carry anyway', async () => {
    const jar = new CookieJar();
    const answer = await requestWithCookies(world.url(API, '/items'), jar, {
      method: 'OPTIONS',
      headers: { origin: spaOrigin, 'access-control-request-method': 'PUT', cookie: '_pomerium=garbage' },
    });
    expect(answer.status).toBe(204);
  });
});

describe('an OPTIONS request that is not a preflight, on a protected route', () => {
  it('without Origin needs a session: 401, and is forwarded once signed in', async () => {
    const before = world.upstream.requests.length;
    const anonymous = await fetchFrom(API, '/items', new CookieJar(), {
      method: 'OPTIONS',
      origin: null,
      headers: { 'access-control-request-method': 'PUT' },
    });
    expect(anonymous.status).toBe(401);
    expectNoneReached(before);
    const signedIn = await fetchFrom(API, '/items', alice, { method: 'OPTIONS', origin: null });
    expect(signedIn.status).toBe(200);
    expect(world.upstream.lastRequest().method).toBe('OPTIONS');
  });

  it('without Access-Control-Request-Method needs a session: 401 with CORS headers, then forwarded', async () => {
    const before = world.upstream.requests.length;
    const anonymous = await fetchFrom(API, '/items', new CookieJar(), { method: 'OPTIONS' });
    expect(anonymous.status).toBe(401);
    expect(accessControlHeaders(anonymous.headers)).toEqual(allowedHeaders());
    expectNoneReached(before);
    const signedIn = await fetchFrom(API, '/items', alice, { method: 'OPTIONS' });
    expect(signedIn.status).toBe(200);
    expect(accessControlHeaders(signedIn.headers)).toEqual(allowedHeaders());
    expect(world.upstream.lastRequest().method).toBe('OPTIONS');
  });
});

describe('the 401 an SPA on another origin gets', () => {
  it('is JSON with login_url and CORS headers the SPA can read', async () => {
    const answer = await fetchFrom(API, '/items?page=2', new CookieJar());
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Pomerium');
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
    expect(answer.headers.vary).toMatch(/\bOrigin\b/);
    const body = JSON.parse(answer.body) as { error: string; login_url: string; request_id: string };
    expect(body.error).toBe('unauthenticated');
    expect(body.request_id).toBe(answer.headers['x-request-id']);

    // The SPA opens login_url; after signing in the browser is back where the 401 was for.
    const visit = await navigate(new URL(body.login_url), new CookieJar(), ALICE, world.idp);
    expect(visit.answer.status).toBe(200);
    expect(visit.url.href).toBe(world.url(API, '/items?page=2').href);
  });

  it('has no CORS headers for an origin the route does not allow, and is still a 401', async () => {
    const answer = await fetchFrom(API, '/items', new CookieJar(), { origin: 'http://evil.example.test' });
    expect(answer.status).toBe(401);
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });

  it('is a 302 with CORS headers on an auth_mode: redirect route', async () => {
    const answer = await fetchFrom(REDIRECT, '/page', new CookieJar());
    expect(answer.status).toBe(302);
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
  });
});

describe('signed-in answers', () => {
  it('carry the CORS headers with the session cookie (credentials: include)', async () => {
    const answer = await fetchFrom(API, '/items', alice, { method: 'PUT' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ method: 'PUT' });
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
  });

  it('carry the CORS headers with the header token (X-Pomerium-Authorization)', async () => {
    const answer = await fetchFrom(API, '/items', new CookieJar(), {
      headers: { 'x-pomerium-authorization': aliceToken },
    });
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
    expect(world.upstream.lastRequest().headers['x-pomerium-authorization']).toBeUndefined();
  });

  it('403 for a user the route does not let in, with CORS headers', async () => {
    const before = world.upstream.requests.length;
    const answer = await fetchFrom(API, '/admin/report', bob, { headers: { accept: 'application/json' } });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
    expectNoneReached(before);
  });
});

describe('Gatehouse’s own endpoints follow the route’s CORS policy', () => {
  it('/.pomerium/user tells a signed-in SPA who it is, readable cross-origin', async () => {
    const answer = await fetchFrom(API, '/.pomerium/user', alice);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ email: ALICE_EMAIL });
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
    expect(answer.headers.vary).toMatch(/\bOrigin\b/);
  });

  it('/.pomerium/user answers 401 with login_url and CORS headers when nobody is signed in', async () => {
    const answer = await fetchFrom(API, '/.pomerium/user', new CookieJar());
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'unauthenticated' });
    expect((JSON.parse(answer.body) as { login_url: string }).login_url).toMatch(/\/oauth2\/start/);
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
  });

  it('/.pomerium/user gives an origin the route does not allow no CORS headers', async () => {
    const answer = await fetchFrom(API, '/.pomerium/user', alice, { origin: 'http://evil.example.test' });
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual({});
  });

  it('/.pomerium/sign_out signs the SPA’s session out with a readable answer', async () => {
    const jar = await signedInJar(world.url(API, '/'), ALICE, world.idp);
    const answer = await fetchFrom(API, '/.pomerium/sign_out', jar, {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ signed_out: true });
    expect(accessControlHeaders(answer.headers)).toEqual(allowedHeaders());
    expect((await fetchFrom(API, '/.pomerium/user', jar)).status).toBe(401);
  });
});

describe('Pomerium’s cors_allow_preflight without a cors block', () => {
  it('forwards an unauthenticated preflight to the upstream, which answers it', async () => {
    const before = world.upstream.requests.length;
    const answer = await preflightTo(POMERIUM, '/items', 'PUT');
    expect(answer.status).toBe(204);
    expect(answer.headers['x-answered-by']).toBe('upstream');
    expect(world.upstream.requests.length).toBe(before + 1);
    const seen = world.upstream.lastRequest();
    expect(seen.method).toBe('OPTIONS');
    expect(seen.headers['access-control-request-method']).toBe('PUT');
    // The route's static set_response_headers replace what the upstream said about the origin.
    expect(answer.headers['access-control-allow-origin']).toBe(spaOrigin);
    expect(answer.headers['access-control-allow-methods']).toBe('PUT');
  });

  it('still needs a session for any other request, whose 401 carries the static headers', async () => {
    const before = world.upstream.requests.length;
    const answer = await fetchFrom(POMERIUM, '/items', new CookieJar());
    expect(answer.status).toBe(401);
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': spaOrigin,
      'access-control-allow-credentials': 'true',
    });
    expectNoneReached(before);
  });

  it('still needs a session for an OPTIONS that is not a preflight', async () => {
    const before = world.upstream.requests.length;
    const noOrigin = await fetchFrom(POMERIUM, '/items', new CookieJar(), {
      method: 'OPTIONS',
      origin: null,
      headers: { 'access-control-request-method': 'PUT' },
    });
    expect(noOrigin.status).toBe(401);
    const noMethod = await fetchFrom(POMERIUM, '/items', new CookieJar(), { method: 'OPTIONS' });
    expect(noMethod.status).toBe(401);
    expectNoneReached(before);
  });

  it('serves a signed-in request with the static Access-Control-* headers, as Pomerium’s guide sets them', async () => {
    const jar = await signedInJar(world.url(POMERIUM, '/'), ALICE, world.idp);
    const answer = await fetchFrom(POMERIUM, '/items', jar);
    expect(answer.status).toBe(200);
    expect(accessControlHeaders(answer.headers)).toEqual({
      'access-control-allow-origin': spaOrigin,
      'access-control-allow-credentials': 'true',
    });
  });
});

describe('a protected route with neither cors nor cors_allow_preflight', () => {
  it('answers a preflight 401 like any unauthenticated request and forwards nothing', async () => {
    const before = world.upstream.requests.length;
    const answer = await preflightTo(STRICT, '/items', 'PUT');
    expect(answer.status).toBe(401);
    expect(accessControlHeaders(answer.headers)).toEqual({});
    expectNoneReached(before);
  });
});
