import { describe, expect, it } from 'vitest';
import { createOidcClient, type IdpFetch, type OidcClientOptions } from './oidc-client.js';
import { createFakeClock } from '../../test/harness/fake-clock.js';
import { expectCode } from '../../test/harness/expect-code.js';

const ISSUER = 'https://idp.example.com';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const metadata = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/auth`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
  revocation_endpoint: `${ISSUER}/revoke`,
  end_session_endpoint: `${ISSUER}/logout`,
};

interface SeenRequest {
  readonly url: string;
  readonly headers: Headers;
  readonly body: URLSearchParams;
}

/** An IdP made of canned answers: discovery from `discovered`, everything else from `answer`. */
function fakeIdp(
  options: {
    discovered?: Record<string, unknown>;
    answer?: (request: SeenRequest) => Response;
  } = {},
) {
  const requests: SeenRequest[] = [];
  let isDown = false;
  const fetch: IdpFetch = (url, init) => {
    const request = {
      url,
      headers: new Headers(init.headers),
      body: new URLSearchParams(
        init.body instanceof URLSearchParams || typeof init.body === 'string' ? init.body : '',
      ),
    };
    requests.push(request);
    if (isDown)
      return Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }));
    if (url.endsWith('/.well-known/openid-configuration')) {
      return Promise.resolve(json(200, options.discovered ?? metadata));
    }
    return Promise.resolve(options.answer?.(request) ?? json(404, { error: 'not_found' }));
  };
  return {
    fetch,
    requests,
    discoveries: () => requests.filter((request) => request.url.includes('.well-known')).length,
    setDown: (down: boolean) => {
      isDown = down;
    },
  };
}

function clientWith(idp: ReturnType<typeof fakeIdp>, overrides: Partial<OidcClientOptions> = {}) {
  const clock = createFakeClock();
  const client = createOidcClient({
    issuerUrl: ISSUER,
    clientId: 'gatehouse',
    clientSecret: 's3cret/+',
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    redirectUri: 'https://auth.example.com/oauth2/callback',
    allowInsecureHttp: false,
    clock,
    fetch: idp.fetch,
    ...overrides,
  });
  return { client, clock };
}

const authorizationRequest = { state: 'the-state', nonce: 'the-nonce', codeChallenge: 'the-challenge' };

describe('createOidcClient', () => {
  it('refuses an http issuer unless insecure http is allowed', () => {
    const options = { ...clientOptions(), issuerUrl: 'http://idp.example.com' };
    expect(() => createOidcClient(options)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => createOidcClient({ ...options, allowInsecureHttp: true })).not.toThrow();
  });

  it.each([
    'not a url',
    'ftp://idp.example.com',
    'https://idp.example.com/?tenant=1',
    'https://u:p@idp.example.com',
  ])('refuses the issuer %s', (issuerUrl) => {
    expect(() => createOidcClient({ ...clientOptions(), issuerUrl })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('refuses scopes without openid', () => {
    expect(() => createOidcClient({ ...clientOptions(), scopes: ['email'] })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('does not contact the IdP until it is needed', () => {
    const idp = fakeIdp();
    clientWith(idp);
    expect(idp.requests).toHaveLength(0);
  });
});

function clientOptions(): OidcClientOptions {
  return {
    issuerUrl: ISSUER,
    clientId: 'gatehouse',
    clientSecret: 'secret',
    scopes: ['openid'],
    allowInsecureHttp: false,
    clock: createFakeClock(),
  };
}

describe('discovery', () => {
  it('happens once for concurrent and later calls', async () => {
    const idp = fakeIdp();
    const { client } = clientWith(idp);
    await Promise.all([client.discover(), client.authorizationUrl(authorizationRequest), client.discover()]);
    await client.authorizationUrl(authorizationRequest);
    expect(idp.discoveries()).toBe(1);
  });

  it('answers ERR_IDP_UNAVAILABLE while the IdP is down, with a Retry-After', async () => {
    const idp = fakeIdp();
    idp.setDown(true);
    const { client } = clientWith(idp);
    const error = await expectCode(client.authorizationUrl(authorizationRequest), 'ERR_IDP_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.expose).toBe(false);
    expect(error.headers['retry-after']).toBe('1');
  });

  it('does not ask again before the pause is over, then doubles the pause after each failure', async () => {
    const idp = fakeIdp();
    idp.setDown(true);
    const { client, clock } = clientWith(idp, { discoveryRetryMs: 1000, maxDiscoveryRetryMs: 3000 });
    await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    expect(idp.discoveries()).toBe(1);
    clock.advance(1000);
    await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    expect(idp.discoveries()).toBe(2);
    clock.advance(1999);
    await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    expect(idp.discoveries()).toBe(2);
    clock.advance(1);
    const third = await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    expect(third.headers['retry-after']).toBe('3');
  });

  it('works once the IdP is back', async () => {
    const idp = fakeIdp();
    idp.setDown(true);
    const { client, clock } = clientWith(idp);
    await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    idp.setDown(false);
    clock.advance(1000);
    await expect(client.authorizationUrl(authorizationRequest)).resolves.toBeInstanceOf(URL);
  });

  it('refuses metadata whose issuer differs from the configured one', async () => {
    const idp = fakeIdp({ discovered: { ...metadata, issuer: 'https://other.example.com' } });
    const { client } = clientWith(idp);
    const error = await expectCode(client.discover(), 'ERR_IDP_UNAVAILABLE');
    expect(String((error.cause as Error).message)).toContain('issuer');
  });
});

describe('authorizationUrl', () => {
  it('asks for the code flow with PKCE S256, state, nonce and the configured scopes', async () => {
    const { client } = clientWith(fakeIdp());
    const url = await client.authorizationUrl(authorizationRequest);
    expect(url.origin + url.pathname).toBe(`${ISSUER}/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'gatehouse',
      response_type: 'code',
      redirect_uri: 'https://auth.example.com/oauth2/callback',
      scope: 'openid email profile offline_access',
      state: 'the-state',
      nonce: 'the-nonce',
      code_challenge: 'the-challenge',
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
  });

  it('asks for consent only with offline_access', async () => {
    const { client } = clientWith(fakeIdp(), { scopes: ['openid', 'email'] });
    const url = await client.authorizationUrl(authorizationRequest);
    expect(url.searchParams.has('prompt')).toBe(false);
  });

  it('uses the redirect URI a call names', async () => {
    const { client } = clientWith(fakeIdp());
    const url = await client.authorizationUrl({
      ...authorizationRequest,
      redirectUri: 'https://app.example.com/oauth2/callback',
    });
    expect(url.searchParams.get('redirect_uri')).toBe('https://app.example.com/oauth2/callback');
  });
});

describe('refresh', () => {
  const refreshed = { access_token: 'new-access', token_type: 'Bearer', expires_in: 300 };

  it('returns the new tokens with the rotated refresh token', async () => {
    const { client } = clientWith(
      fakeIdp({ answer: () => json(200, { ...refreshed, refresh_token: 'rotated' }) }),
    );
    await expect(client.refresh('old-refresh')).resolves.toEqual({
      accessToken: 'new-access',
      accessTokenIssuedAt: 1_700_000_000_000,
      accessTokenExpiresAt: 1_700_000_000_000 + 300_000,
      refreshToken: 'rotated',
    });
  });

  it('records when the tokens arrived, so the access token’s lifetime is known', async () => {
    const { client, clock } = clientWith(
      fakeIdp({ answer: () => json(200, { ...refreshed, expires_in: 5 }) }),
    );
    clock.advance(42_000);
    const tokens = await client.refresh('old-refresh');
    expect(tokens.accessTokenIssuedAt).toBe(clock.now());
    expect(tokens.accessTokenExpiresAt).toBe(clock.now() + 5_000);
  });

  it('keeps the refresh token it used when the IdP does not rotate it', async () => {
    const { client } = clientWith(fakeIdp({ answer: () => json(200, refreshed) }));
    await expect(client.refresh('old-refresh')).resolves.toMatchObject({ refreshToken: 'old-refresh' });
  });

  it('authenticates with client_secret_basic by default', async () => {
    const idp = fakeIdp({ answer: () => json(200, refreshed) });
    const { client } = clientWith(idp);
    await client.refresh('old-refresh');
    const token = idp.requests.find((request) => request.url.endsWith('/token'));
    // RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64.
    expect(token?.headers.get('authorization')).toBe(`Basic ${btoa('gatehouse:s3cret%2F%2B')}`);
    expect(token?.body.get('client_secret')).toBeNull();
    expect(token?.body.get('grant_type')).toBe('refresh_token');
  });

  it('authenticates with client_secret_post when that is all the IdP offers', async () => {
    const idp = fakeIdp({
      discovered: { ...metadata, token_endpoint_auth_methods_supported: ['client_secret_post'] },
      answer: () => json(200, refreshed),
    });
    const { client } = clientWith(idp);
    await client.refresh('old-refresh');
    const token = idp.requests.find((request) => request.url.endsWith('/token'));
    expect(token?.headers.get('authorization')).toBeNull();
    expect(token?.body.get('client_secret')).toBe('s3cret/+');
  });

  it('reports invalid_grant as ERR_IDP_GRANT_INVALID without the IdP description', async () => {
    const { client } = clientWith(
      fakeIdp({
        answer: () => json(400, { error: 'invalid_grant', error_description: 'grant 42 revoked by admin' }),
      }),
    );
    const error = await expectCode(client.refresh('old-refresh'), 'ERR_IDP_GRANT_INVALID');
    expect(error.message).not.toContain('42');
  });

  it('reports other OAuth errors as ERR_IDP_REJECTED, hidden from clients', async () => {
    const { client } = clientWith(fakeIdp({ answer: () => json(401, { error: 'invalid_client' }) }));
    const error = await expectCode(client.refresh('old-refresh'), 'ERR_IDP_REJECTED');
    expect(error.expose).toBe(false);
  });

  it.each([
    ['a 503 with an OAuth error', () => json(503, { error: 'temporarily_unavailable' })],
    ['a 500 with an OAuth error', () => json(500, { error: 'server_error' })],
    ['a 502 HTML page', () => new Response('<h1>Bad gateway</h1>', { status: 502 })],
  ])('reports %s as ERR_IDP_UNAVAILABLE', async (_name, answer) => {
    const { client } = clientWith(fakeIdp({ answer }));
    await expectCode(client.refresh('old-refresh'), 'ERR_IDP_UNAVAILABLE');
  });

  it('reports a connection failure as ERR_IDP_UNAVAILABLE', async () => {
    const idp = fakeIdp();
    const { client } = clientWith(idp);
    await client.discover();
    idp.setDown(true);
    await expectCode(client.refresh('old-refresh'), 'ERR_IDP_UNAVAILABLE');
  });
});

describe('revoke', () => {
  it('revokes with a token type hint at the revocation endpoint', async () => {
    const idp = fakeIdp({ answer: () => new Response(null, { status: 200 }) });
    const { client } = clientWith(idp);
    await expect(client.revoke('a-refresh-token', 'refresh_token')).resolves.toBe(true);
    const revocation = idp.requests.find((request) => request.url.endsWith('/revoke'));
    expect(revocation?.body.get('token')).toBe('a-refresh-token');
    expect(revocation?.body.get('token_type_hint')).toBe('refresh_token');
  });

  it('does nothing when the IdP has no revocation endpoint', async () => {
    const idp = fakeIdp({ discovered: { ...metadata, revocation_endpoint: undefined } });
    const { client } = clientWith(idp);
    await expect(client.revoke('a-refresh-token', 'refresh_token')).resolves.toBe(false);
    expect(idp.requests).toHaveLength(1);
  });
});

describe('endSessionUrl', () => {
  it('names the ID token and where to go afterwards', async () => {
    const { client } = clientWith(fakeIdp());
    const url = await client.endSessionUrl({
      idTokenHint: 'an-id-token',
      postLogoutRedirectUri: 'https://app.example.com/bye',
    });
    expect(url?.origin).toBe(ISSUER);
    expect(Object.fromEntries(url?.searchParams ?? [])).toEqual({
      id_token_hint: 'an-id-token',
      post_logout_redirect_uri: 'https://app.example.com/bye',
      client_id: 'gatehouse',
    });
  });

  it('is undefined when the IdP has no end_session_endpoint', async () => {
    const { client } = clientWith(fakeIdp({ discovered: { ...metadata, end_session_endpoint: undefined } }));
    await expect(client.endSessionUrl({ idTokenHint: 'an-id-token' })).resolves.toBeUndefined();
  });
});

describe('redeemCode', () => {
  const callback = (query: string) => new URL(`https://auth.example.com/oauth2/callback?${query}`);
  const redemption = { expectedState: 'the-state', expectedNonce: 'the-nonce', codeVerifier: 'v'.repeat(43) };

  it('reports access_denied as ERR_LOGIN_DENIED without calling the token endpoint', async () => {
    const idp = fakeIdp();
    const { client } = clientWith(idp);
    const error = await expectCode(
      client.redeemCode({
        ...redemption,
        callbackUrl: callback('error=access_denied&error_description=user%20said%20no&state=the-state'),
      }),
      'ERR_LOGIN_DENIED',
    );
    expect(error.status).toBe(403);
    expect(error.message).not.toContain('said no');
    expect(idp.requests.filter((request) => request.url.endsWith('/token'))).toHaveLength(0);
  });

  it('refuses a state other than the expected one without calling the token endpoint', async () => {
    const idp = fakeIdp();
    const { client } = clientWith(idp);
    await expectCode(
      client.redeemCode({ ...redemption, callbackUrl: callback('code=abc&state=another-state') }),
      'ERR_LOGIN_FAILED',
    );
    expect(idp.requests.filter((request) => request.url.endsWith('/token'))).toHaveLength(0);
  });

  it('reports a refused code as ERR_LOGIN_FAILED', async () => {
    const idp = fakeIdp({
      answer: () => json(400, { error: 'invalid_grant', error_description: 'code reused' }),
    });
    const { client } = clientWith(idp);
    const error = await expectCode(
      client.redeemCode({ ...redemption, callbackUrl: callback('code=abc&state=the-state') }),
      'ERR_LOGIN_FAILED',
    );
    expect(error.message).not.toContain('reused');
  });

  it('sends the configured redirect_uri, not one derived from the callback request', async () => {
    const idp = fakeIdp({ answer: () => json(400, { error: 'invalid_grant' }) });
    const { client } = clientWith(idp);
    await expectCode(
      client.redeemCode({
        ...redemption,
        callbackUrl: new URL('http://evil.example/oauth2/callback?code=abc&state=the-state'),
      }),
      'ERR_LOGIN_FAILED',
    );
    const token = idp.requests.find((request) => request.url.endsWith('/token'));
    expect(token?.body.get('redirect_uri')).toBe('https://auth.example.com/oauth2/callback');
    expect(token?.body.get('code_verifier')).toBe('v'.repeat(43));
  });
});
