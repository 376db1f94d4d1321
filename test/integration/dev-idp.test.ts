/**
 * The bundled development IdP over real HTTP, driven the way a relying party drives it: discovery, the
 * authorization code flow with PKCE through its sign-in form, the token endpoint with
 * client_secret_basic, UserInfo, refresh, revocation and RP-initiated logout.
 */
import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevIdp, type DevIdp } from '../../src/demo/dev-idp.js';
import { isGatehouseError } from '../../src/shared/errors.js';
import {
  CookieJar,
  requestWithCookies,
  signInWithoutBrowser,
  signOutWithoutBrowser,
} from '../harness/idp.js';

const CLIENT_ID = 'gatehouse';
const CLIENT_SECRET = 'dev-idp-test-secret';
const REDIRECT_URI = 'http://localhost:8080/oauth2/callback';
const POST_LOGOUT_REDIRECT_URI = 'http://localhost:8080/signed-out';
const ACCESS_TOKEN_TTL_SECONDS = 5;

interface NonLoopbackHost {
  readonly note: string;
  readonly host: string;
}
const nonLoopbackHosts = JSON.parse(
  readFileSync(new URL('../fixtures/dev-idp-non-loopback-hosts.json', import.meta.url), 'utf8'),
) as NonLoopbackHost[];

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly userinfo_endpoint: string;
  readonly revocation_endpoint: string;
  readonly end_session_endpoint: string;
  readonly jwks_uri: string;
  readonly [field: string]: unknown;
}

interface TokenAnswer {
  readonly access_token: string;
  readonly id_token: string;
  readonly refresh_token?: string;
  readonly expires_in: number;
  readonly token_type: string;
  readonly scope: string;
}

interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const errors: unknown[] = [];
let idp: DevIdp;
let discovery: Discovery;

beforeAll(async () => {
  idp = await startDevIdp({
    host: '127.0.0.1',
    port: 0,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [REDIRECT_URI],
        post_logout_redirect_uris: [POST_LOGOUT_REDIRECT_URI],
      },
    ],
    accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
    onError: (error) => errors.push(error),
  });
  const response = await fetch(new URL('/.well-known/openid-configuration', idp.url));
  discovery = (await response.json()) as Discovery;
});

afterAll(async () => {
  await idp?.close();
});

afterEach(() => {
  // Every failure a test provokes is the client's; nothing may reach the IdP's error report.
  expect(errors).toEqual([]);
  idp.counters.reset();
});

function authorizationUrl(params: Record<string, string>): URL {
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile offline_access',
    ...params,
  }).toString();
  return url;
}

/** An authorization request with PKCE S256, as Gatehouse sends it. */
function pkceAuthorizationUrl(pkce: { challenge: string }, params: Record<string, string>): URL {
  return authorizationUrl({ ...params, code_challenge: pkce.challenge, code_challenge_method: 'S256' });
}

function callToken(form: Record<string, string>): Promise<Response> {
  return fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: {
      // RFC 6749 §2.3.1: client_secret_basic.
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
}

interface SignedIn {
  readonly tokens: TokenAnswer;
  readonly callback: URL;
  readonly jar: CookieJar;
}

async function signIn(user: string, state = 'state-1', nonce = 'nonce-1'): Promise<SignedIn> {
  const pkce = newPkce();
  const jar = new CookieJar();
  const callback = await signInWithoutBrowser(pkceAuthorizationUrl(pkce, { state, nonce }), user, jar);
  const response = await callToken({
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT_URI,
    code_verifier: pkce.verifier,
  });
  expect(response.status).toBe(200);
  return { tokens: (await response.json()) as TokenAnswer, callback, jar };
}

/** Verifies the compact JWS against the IdP's published keys and returns its payload. */
async function verifiedJwtPayload(jwt: string): Promise<Record<string, unknown>> {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as {
    kid: string;
    alg: string;
  };
  expect(alg).toBe('RS256');
  const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as {
    keys: (JsonWebKey & { kid: string })[];
  };
  const jwk = keys.find((key) => key.kid === kid);
  expect(jwk).toBeDefined();
  expect(jwk).not.toHaveProperty('d');
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  expect(
    verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url')),
  ).toBe(true);
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
}

describe('discovery', () => {
  it('publishes its endpoints, PKCE S256, the four scopes and the groups claim', () => {
    const origin = idp.url.origin;
    expect(idp.issuer).toBe(origin);
    expect(discovery).toMatchObject({
      issuer: origin,
      authorization_endpoint: `${origin}/auth`,
      token_endpoint: `${origin}/token`,
      userinfo_endpoint: `${origin}/me`,
      revocation_endpoint: `${origin}/token/revocation`,
      end_session_endpoint: `${origin}/session/end`,
      jwks_uri: `${origin}/jwks`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(discovery['scopes_supported']).toEqual(['openid', 'email', 'profile', 'offline_access']);
    expect(discovery['claims_supported']).toEqual(
      expect.arrayContaining(['sub', 'email', 'email_verified', 'name', 'groups']),
    );
  });
});

describe('sign-in page', () => {
  it('lists both fixture users as buttons, says it is for development only, and runs no script', async () => {
    const jar = new CookieJar();
    const pkce = newPkce();
    const start = await requestWithCookies(pkceAuthorizationUrl(pkce, { state: 's', nonce: 'n' }), jar);
    expect(start.status).toBe(303);
    const page = await requestWithCookies(new URL(start.headers.location ?? '', idp.url), jar);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('Development only.');
    expect(page.body).toContain('<button class="user" type="submit" name="user" value="alice">');
    expect(page.body).toContain('alice@example.com');
    expect(page.body).toContain('Groups: admins, staff');
    expect(page.body).toContain('bob@contractor.example');
    expect(page.body).not.toContain('<script');
  });

  it('answers a sign-in link whose interaction cookie is missing with a 400 page, not an error', async () => {
    const page = await requestWithCookies(new URL('/interaction/forged-uid', idp.url), new CookieJar());
    expect(page.status).toBe(400);
    expect(page.body).toContain('This sign-in has expired or was already used.');
  });

  it('refuses a user who is not listed', async () => {
    const jar = new CookieJar();
    const pkce = newPkce();
    const start = await requestWithCookies(pkceAuthorizationUrl(pkce, { state: 's', nonce: 'n' }), jar);
    const signInPage = new URL(start.headers.location ?? '', idp.url);
    const posted = await requestWithCookies(new URL(`${signInPage.pathname}/login`, idp.url), jar, {
      method: 'POST',
      form: new URLSearchParams({ user: 'mallory' }),
    });
    expect(posted.status).toBe(400);
    expect(posted.body).toContain('Choose one of the listed users.');
  });
});

describe('authorization code flow', () => {
  it('signs alice in with PKCE; the signed ID token carries her email, groups and the nonce', async () => {
    const { tokens, callback } = await signIn('alice', 'state-alice', 'nonce-alice');
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('state-alice');
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.scope.split(' ').sort()).toEqual(['email', 'offline_access', 'openid', 'profile']);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const claims = await verifiedJwtPayload(tokens.id_token);
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: CLIENT_ID,
      sub: 'alice',
      nonce: 'nonce-alice',
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Example',
      groups: ['admins', 'staff'],
    });
    expect(idp.counters.tokenRequests('authorization_code')).toBe(1);
  });

  it('returns bob’s groups from UserInfo', async () => {
    const { tokens } = await signIn('bob');
    const response = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      sub: 'bob',
      email: 'bob@contractor.example',
      email_verified: true,
      name: 'Bob Contractor',
      groups: ['contractors'],
    });
    expect(idp.counters.userinfoRequests()).toBe(1);
  });

  it('issues access tokens that live for the configured 5 seconds', async () => {
    const { tokens } = await signIn('alice');
    expect(tokens.expires_in).toBe(ACCESS_TOKEN_TTL_SECONDS);
  });

  it('issues no refresh token when offline_access is not requested', async () => {
    const pkce = newPkce();
    const url = pkceAuthorizationUrl(pkce, { state: 's', nonce: 'n', scope: 'openid email' });
    const callback = await signInWithoutBrowser(url, 'alice');
    const response = await callToken({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
    });
    const tokens = (await response.json()) as TokenAnswer;
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid email');
  });

  it('signs in again without the page while the IdP session lasts (same cookie jar)', async () => {
    const { jar } = await signIn('alice');
    const pkce = newPkce();
    const url = pkceAuthorizationUrl(pkce, { state: 's2', nonce: 'n2' });
    // 'bob' is never posted: the existing session answers straight away.
    const callback = await signInWithoutBrowser(url, 'bob', jar);
    const response = await callToken({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
    });
    const claims = await verifiedJwtPayload(((await response.json()) as TokenAnswer).id_token);
    expect(claims['sub']).toBe('alice');
  });

  it('sends a cancelled sign-in back with error=access_denied and the state', async () => {
    const jar = new CookieJar();
    const pkce = newPkce();
    const start = await requestWithCookies(
      pkceAuthorizationUrl(pkce, { state: 'cancel-me', nonce: 'n' }),
      jar,
    );
    const signInPage = new URL(start.headers.location ?? '', idp.url);
    const cancelled = await requestWithCookies(new URL(`${signInPage.pathname}/abort`, idp.url), jar, {
      method: 'POST',
    });
    const resumed = await requestWithCookies(new URL(cancelled.headers.location ?? '', idp.url), jar);
    const callback = new URL(resumed.headers.location ?? '');
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('cancel-me');
  });
});

describe('PKCE is required', () => {
  it('refuses an authorization request without a code challenge', async () => {
    const callback = await signInWithoutBrowser(authorizationUrl({ state: 'no-pkce', nonce: 'n' }), 'alice');
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toContain('PKCE');
    expect(callback.searchParams.get('state')).toBe('no-pkce');
    expect(callback.searchParams.has('code')).toBe(false);
  });

  it('refuses a plain code challenge method', async () => {
    const url = authorizationUrl({
      state: 's',
      nonce: 'n',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    });
    const callback = await signInWithoutBrowser(url, 'alice');
    expect(callback.searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses to redeem a code without the code verifier', async () => {
    const pkce = newPkce();
    const url = pkceAuthorizationUrl(pkce, { state: 's', nonce: 'n' });
    const callback = await signInWithoutBrowser(url, 'alice');
    const response = await callToken({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    expect(idp.counters.tokenRequests('authorization_code')).toBe(1);
    expect(idp.counters.failedTokenRequests('authorization_code')).toBe(1);
  });

  it('refuses a wrong code verifier', async () => {
    const pkce = newPkce();
    const url = pkceAuthorizationUrl(pkce, { state: 's', nonce: 'n' });
    const callback = await signInWithoutBrowser(url, 'alice');
    const response = await callToken({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: newPkce().verifier,
    });
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('refresh', () => {
  it('answers a refresh_token grant with new tokens and a rotated refresh token, and counts it', async () => {
    const { tokens } = await signIn('alice');
    const response = await callToken({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
    });
    expect(response.status).toBe(200);
    const refreshed = (await response.json()) as TokenAnswer;
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.expires_in).toBe(ACCESS_TOKEN_TTL_SECONDS);
    expect(await verifiedJwtPayload(refreshed.id_token)).toMatchObject({
      sub: 'alice',
      groups: ['admins', 'staff'],
    });
    expect(idp.counters.tokenRequests('refresh_token')).toBe(1);
    expect(idp.counters.failedTokenRequests('refresh_token')).toBe(0);
  });

  it('answers invalid_grant when a rotated-out refresh token is used again', async () => {
    const { tokens } = await signIn('alice');
    await callToken({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' });
    const replay = await callToken({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
    });
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect(idp.counters.tokenRequests('refresh_token')).toBe(2);
    expect(idp.counters.failedTokenRequests('refresh_token')).toBe(1);
  });

  it('answers invalid_grant after revokeRefreshTokens(user), and only for that user', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    expect(idp.revokeRefreshTokens('alice')).toBeGreaterThanOrEqual(1);
    const aliceRefresh = await callToken({
      grant_type: 'refresh_token',
      refresh_token: alice.tokens.refresh_token ?? '',
    });
    expect(aliceRefresh.status).toBe(400);
    expect(await aliceRefresh.json()).toMatchObject({ error: 'invalid_grant' });
    const bobRefresh = await callToken({
      grant_type: 'refresh_token',
      refresh_token: bob.tokens.refresh_token ?? '',
    });
    expect(bobRefresh.status).toBe(200);
  });

  it('answers invalid_grant for a refresh token revoked at the revocation endpoint (RFC 7009)', async () => {
    const { tokens } = await signIn('alice');
    const revoked = await fetch(discovery.revocation_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: tokens.refresh_token ?? '', token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    expect(idp.counters.revocationRequests()).toBe(1);
    const refresh = await callToken({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
    });
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('expiry', () => {
  it('stops accepting an access token once its lifetime has passed', async () => {
    const shortLived = await startDevIdp({
      host: '127.0.0.1',
      port: 0,
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] }],
      accessTokenTtlSeconds: 1,
      onError: (error) => errors.push(error),
    });
    try {
      const pkce = newPkce();
      const url = new URL('/auth', shortLived.url);
      url.search = new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }).toString();
      const callback = await signInWithoutBrowser(url, 'alice');
      const tokenResponse = await fetch(new URL('/token', shortLived.url), {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') ?? '',
          redirect_uri: REDIRECT_URI,
          code_verifier: pkce.verifier,
        }),
      });
      const tokens = (await tokenResponse.json()) as TokenAnswer;
      expect(tokens.expires_in).toBe(1);
      const userinfo = (): Promise<Response> =>
        fetch(new URL('/me', shortLived.url), {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        });
      expect((await userinfo()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const expired = await userinfo();
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
    } finally {
      await shortLived.close();
    }
  });
});

describe('RP-initiated logout', () => {
  it('ends the IdP session without a confirmation page and returns to post_logout_redirect_uri with the state', async () => {
    const { tokens, jar } = await signIn('alice');
    const endSession = new URL(discovery.end_session_endpoint);
    endSession.search = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
      state: 'bye',
    }).toString();
    const landed = await signOutWithoutBrowser(endSession, jar);
    expect(landed.origin + landed.pathname).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(landed.searchParams.get('state')).toBe('bye');
    expect(idp.counters.endSessionRequests()).toBe(1);

    // The IdP session is gone: the next sign-in shows the page again and may pick another user.
    const pkce = newPkce();
    const url = pkceAuthorizationUrl(pkce, { state: 's', nonce: 'n' });
    const start = await requestWithCookies(url, jar);
    expect(start.headers.location).toMatch(/^\/interaction\//);
  });

  it('refuses a post_logout_redirect_uri that is not registered', async () => {
    const { tokens, jar } = await signIn('alice');
    const endSession = new URL(discovery.end_session_endpoint);
    endSession.search = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: 'http://evil.example/',
    }).toString();
    const answer = await requestWithCookies(endSession, jar);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('post_logout_redirect_uri not registered');
  });
});

describe('loopback only', () => {
  it.each(nonLoopbackHosts)('refuses to start on $host ($note)', async ({ host }) => {
    const started = startDevIdp({ host: host as 'localhost', port: 0, clients: [] });
    await expect(started).rejects.toSatisfy(
      (error) =>
        isGatehouseError(error) && error.code === 'ERR_CONFIG_INVALID' && error.message.includes('loopback'),
    );
  });

  it('starts on localhost with the issuer named after it', async () => {
    const local = await startDevIdp({ host: 'localhost', port: 0, clients: [] });
    try {
      expect(local.issuer).toBe(`http://localhost:${local.url.port}`);
      const response = await fetch(
        new URL('/.well-known/openid-configuration', `http://127.0.0.1:${local.url.port}`),
      );
      expect(((await response.json()) as Discovery).issuer).toBe(local.issuer);
    } finally {
      await local.close();
    }
  });

  it('names itself after issuerHostname on the port it bound, e.g. a test host name mapped to loopback', async () => {
    const named = await startDevIdp({
      host: '127.0.0.1',
      port: 0,
      issuerHostname: 'idp.example.test',
      clients: [],
    });
    try {
      const issuer = `http://idp.example.test:${named.url.port}`;
      expect(named.issuer).toBe(issuer);
      // oidc-provider names endpoints after the Host a request arrives with, as a browser sends it.
      const answer = await requestWithCookies(
        new URL('/.well-known/openid-configuration', issuer),
        new CookieJar(),
      );
      expect(JSON.parse(answer.body)).toMatchObject({ issuer, token_endpoint: `${issuer}/token` });
    } finally {
      await named.close();
    }
  });

  it('refuses an issuer with a path, since its endpoints are served at the root', async () => {
    const started = startDevIdp({
      host: '127.0.0.1',
      port: 0,
      issuer: 'http://127.0.0.1:9000/oidc',
      clients: [],
    });
    await expect(started).rejects.toSatisfy(
      (error) => isGatehouseError(error) && error.code === 'ERR_CONFIG_INVALID',
    );
  });
});
