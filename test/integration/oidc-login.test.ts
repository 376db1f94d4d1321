/**
 * Gatehouse's side of the OpenID Connect sign-in (oidc-client.ts with login-transaction.ts) against the
 * real development IdP (oidc-provider) on loopback: discovery, the authorization code flow with PKCE,
 * the CSRF-bound login state checked before any code is redeemed, ID token and UserInfo claims, refresh
 * with rotation, invalid_grant, revocation, end-session, and an IdP that is down when Gatehouse starts.
 * The hostile callbacks come from test/fixtures/login/callback-attacks.json.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOidcClient, type OidcClient } from '../../src/auth/oidc-client.js';
import { LoginTransactions, type BegunLogin, type PendingLogin } from '../../src/auth/login-transaction.js';
import { deriveAuthKeys } from '../../src/auth/secrets.js';
import { startDevIdp, type DevIdp } from '../../src/demo/dev-idp.js';
import { systemClock } from '../../src/shared/clock.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { CookieJar, requestWithCookies, signInWithoutBrowser } from '../harness/idp.js';
import { callbackAttacks, callbackOf } from '../harness/login-fixtures.js';
import { unusedPort } from '../harness/upstream.js';
import { expectCode } from '../harness/expect-code.js';

const CLIENT_ID = 'gatehouse';
const CLIENT_SECRET = 'oidc-login-test-secret';
const REDIRECT_URI = 'http://localhost:8080/oauth2/callback';
const POST_LOGOUT_REDIRECT_URI = 'http://localhost:8080/signed-out';
const SCOPES = ['openid', 'email', 'profile', 'offline_access'];
const client = {
  client_id: CLIENT_ID,
  client_secret: CLIENT_SECRET,
  redirect_uris: [REDIRECT_URI],
  post_logout_redirect_uris: [POST_LOGOUT_REDIRECT_URI],
};

const keys = deriveAuthKeys({
  sharedSecret: new Uint8Array(32).fill(1),
  previousSharedSecrets: [],
  cookieSecret: new Uint8Array(32).fill(2),
});

const idpErrors: unknown[] = [];
let idp: DevIdp;
let store: MemoryStore;
let transactions: LoginTransactions;
let oidc: OidcClient;

function clientFor(issuerUrl: string, discoveryRetryMs?: number): OidcClient {
  return createOidcClient({
    issuerUrl,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scopes: SCOPES,
    redirectUri: REDIRECT_URI,
    allowInsecureHttp: true,
    clock: systemClock,
    ...(discoveryRetryMs === undefined ? {} : { discoveryRetryMs }),
  });
}

beforeAll(async () => {
  idp = await startDevIdp({
    host: '127.0.0.1',
    port: 0,
    clients: [client],
    onError: (error) => idpErrors.push(error),
  });
  store = new MemoryStore({ clock: systemClock });
  transactions = new LoginTransactions({ store, keys, cookieName: '_pomerium' });
  oidc = clientFor(idp.issuer);
});

afterAll(async () => {
  await store?.close();
  await idp?.close();
});

afterEach(() => {
  expect(idpErrors).toEqual([]);
  idp.counters.reset();
});

const codeRedemptions = () => idp.counters.tokenRequests('authorization_code');

interface StartedLogin {
  readonly login: BegunLogin;
  /** The IdP's redirect back to the callback, with `code` and `state` (or `error`). */
  readonly callbackUrl: URL;
}

async function signInAtIdp(user: string, client: OidcClient = oidc): Promise<StartedLogin> {
  const login = await transactions.beginLogin({
    returnUrl: 'https://app.example.test/reports',
    routeHost: 'app.example.test',
    mode: 'cookie',
  });
  const authorizationUrl = await client.authorizationUrl(login);
  return { login, callbackUrl: await signInWithoutBrowser(authorizationUrl, user) };
}

/** What the callback endpoint does: check the state and CSRF cookie, then redeem the code. */
async function finishLogin(started: StartedLogin, client: OidcClient = oidc) {
  const pending = await transactions.completeLogin({
    state: started.callbackUrl.searchParams.get('state') ?? undefined,
    csrfCookieValue: started.login.csrfCookie.value,
  });
  return { pending, user: await redeem(started.callbackUrl, pending, client) };
}

function redeem(callbackUrl: URL, pending: PendingLogin, client: OidcClient = oidc) {
  return client.redeemCode({
    callbackUrl,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    codeVerifier: pending.codeVerifier,
  });
}

describe('signing in', () => {
  it("gives alice's identity, groups and tokens, with the authorization request Gatehouse is meant to send", async () => {
    const started = await signInAtIdp('alice');
    expect(started.callbackUrl.origin + started.callbackUrl.pathname).toBe(REDIRECT_URI);
    expect(started.callbackUrl.searchParams.get('state')).toBe(started.login.state);

    const { pending, user } = await finishLogin(started);
    expect(pending.returnUrl).toBe('https://app.example.test/reports');
    expect(user).toMatchObject({
      userId: 'alice',
      email: 'alice@example.com',
      name: 'Alice Example',
      groups: ['admins', 'staff'],
      claims: { iss: idp.issuer, aud: CLIENT_ID, sub: 'alice', email_verified: true },
    });
    expect(user.tokens.idToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(user.tokens.refreshToken).toEqual(expect.any(String));
    expect(user.tokens.accessTokenExpiresAt).toBeGreaterThan(Date.now());
    expect(user.tokens.idTokenExpiresAt).toBeGreaterThan(Date.now());
    expect(codeRedemptions()).toBe(1);
    expect(idp.counters.userinfoRequests()).toBe(1);
  });

  it("gives bob his own claims, outside alice's groups", async () => {
    const { user } = await finishLogin(await signInAtIdp('bob'));
    expect(user).toMatchObject({ userId: 'bob', email: 'bob@contractor.example', groups: ['contractors'] });
  });

  it('completes several tabs signing in at once', async () => {
    const tabs = await Promise.all(['alice', 'bob', 'alice'].map((user) => signInAtIdp(user)));
    const users = await Promise.all(tabs.reverse().map((tab) => finishLogin(tab)));
    expect(users.map(({ user }) => user.userId)).toEqual(['alice', 'bob', 'alice']);
    expect(codeRedemptions()).toBe(3);
  });
});

describe('refused callbacks', () => {
  it.each(callbackAttacks)('$name: $expect, with no code redeemed', async (attack) => {
    const [genuine, other] = await Promise.all([signInAtIdp('alice'), signInAtIdp('bob')]);
    const callback = callbackOf(attack, {
      genuine: { state: genuine.login.state, csrfCookieValue: genuine.login.csrfCookie.value },
      other: { state: other.login.state, csrfCookieValue: other.login.csrfCookie.value },
    });
    await expectCode(transactions.completeLogin(callback), attack.expect);
    expect(codeRedemptions()).toBe(0);
  });

  it('refuses a replayed state without redeeming its code again', async () => {
    const started = await signInAtIdp('alice');
    await finishLogin(started);
    await expectCode(finishLogin(started), 'ERR_LOGIN_STATE_INVALID');
    expect(codeRedemptions()).toBe(1);
  });

  it('refuses a replayed code at the IdP', async () => {
    const started = await signInAtIdp('alice');
    const { pending } = await finishLogin(started);
    await expectCode(redeem(started.callbackUrl, pending), 'ERR_LOGIN_FAILED');
    expect(idp.counters.failedTokenRequests('authorization_code')).toBe(1);
  });

  it('refuses an ID token whose nonce is not the transaction one', async () => {
    const started = await signInAtIdp('alice');
    const pending = await transactions.completeLogin({
      state: started.login.state,
      csrfCookieValue: started.login.csrfCookie.value,
    });
    await expectCode(
      redeem(started.callbackUrl, { ...pending, nonce: 'someone-elses-nonce' }),
      'ERR_LOGIN_FAILED',
    );
  });

  it('reports a sign-in cancelled at the IdP (error=access_denied) as ERR_LOGIN_DENIED, with no code redeemed', async () => {
    const login = await transactions.beginLogin({
      returnUrl: 'https://app.example.test/',
      routeHost: 'app.example.test',
      mode: 'cookie',
    });
    const jar = new CookieJar();
    const start = await requestWithCookies(await oidc.authorizationUrl(login), jar);
    const signInPage = new URL(start.headers.location ?? '', idp.url);
    const cancelled = await requestWithCookies(new URL(`${signInPage.pathname}/abort`, idp.url), jar, {
      method: 'POST',
    });
    const resumed = await requestWithCookies(new URL(cancelled.headers.location ?? '', idp.url), jar);
    const callbackUrl = new URL(resumed.headers.location ?? '');
    expect(callbackUrl.searchParams.get('error')).toBe('access_denied');

    const error = await expectCode(finishLogin({ login, callbackUrl }), 'ERR_LOGIN_DENIED');
    expect(error.status).toBe(403);
    expect(error.message).not.toContain('cancelled the sign-in');
    expect(codeRedemptions()).toBe(0);
  });
});

describe('after signing in', () => {
  it('refreshes with the refresh token, which the IdP rotates', async () => {
    const { user } = await finishLogin(await signInAtIdp('alice'));
    const refreshToken = user.tokens.refreshToken ?? '';
    const refreshed = await oidc.refresh(refreshToken);
    expect(refreshed.refreshToken).not.toBe(refreshToken);
    expect(refreshed.accessToken).not.toBe(user.tokens.accessToken);
    expect(refreshed.idToken).toEqual(expect.any(String));
    expect(idp.counters.tokenRequests('refresh_token')).toBe(1);
    const again = await oidc.refresh(refreshed.refreshToken);
    expect(again.refreshToken).not.toBe(refreshed.refreshToken);
    expect(idp.counters.tokenRequests('refresh_token')).toBe(2);
  });

  it('reports ERR_IDP_GRANT_INVALID once the IdP has revoked the refresh tokens', async () => {
    const { user } = await finishLogin(await signInAtIdp('alice'));
    expect(idp.revokeRefreshTokens('alice')).toBeGreaterThan(0);
    await expectCode(oidc.refresh(user.tokens.refreshToken ?? ''), 'ERR_IDP_GRANT_INVALID');
    expect(idp.counters.failedTokenRequests('refresh_token')).toBe(1);
  });

  it('revokes a refresh token at the IdP, after which it no longer refreshes', async () => {
    const { user } = await finishLogin(await signInAtIdp('alice'));
    await expect(oidc.revoke(user.tokens.refreshToken ?? '', 'refresh_token')).resolves.toBe(true);
    expect(idp.counters.revocationRequests()).toBe(1);
    await expectCode(oidc.refresh(user.tokens.refreshToken ?? ''), 'ERR_IDP_GRANT_INVALID');
  });

  it("builds the IdP's end-session URL with the ID token hint", async () => {
    const { user } = await finishLogin(await signInAtIdp('alice'));
    const url = await oidc.endSessionUrl({
      idTokenHint: user.tokens.idToken ?? '',
      postLogoutRedirectUri: POST_LOGOUT_REDIRECT_URI,
    });
    expect(url?.href.startsWith(`${idp.issuer}/session/end?`)).toBe(true);
    expect(url?.searchParams.get('id_token_hint')).toBe(user.tokens.idToken);
    expect(url?.searchParams.get('post_logout_redirect_uri')).toBe(POST_LOGOUT_REDIRECT_URI);
  });
});

describe('discovery', () => {
  it('refuses an issuer that differs from the configured one only by host spelling (localhost vs 127.0.0.1)', async () => {
    const spelledDifferently = clientFor(idp.issuer.replace('127.0.0.1', 'localhost'));
    const error = await expectCode(spelledDifferently.discover(), 'ERR_IDP_UNAVAILABLE');
    expect(String((error.cause as Error).message)).toContain('issuer');
  });

  it('survives an IdP that is down at start and signs in once it is up', async () => {
    const port = await unusedPort();
    const lateClient = clientFor(`http://127.0.0.1:${port}`, 50);
    await expectCode(
      lateClient.authorizationUrl({ state: 's', nonce: 'n', codeChallenge: 'c' }),
      'ERR_IDP_UNAVAILABLE',
    );

    const lateIdp = await startDevIdp({ host: '127.0.0.1', port, clients: [client] });
    try {
      await sleep(60);
      const { user } = await finishLogin(await signInAtIdp('alice', lateClient), lateClient);
      expect(user.email).toBe('alice@example.com');
      expect(lateIdp.counters.tokenRequests('authorization_code')).toBe(1);
    } finally {
      await lateIdp.close();
    }
  });
});
