import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileProgrammaticRedirectCheck } from '../auth/redirect-allowlist.js';
import { loadConfigFile } from './load.js';
import { formatProblem, parseConfig, type ConfigResult } from './parse.js';
import { issuerMayUsePlainHttp, needsSignIn } from './validate-identity.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/config/identity/', import.meta.url));

const SHARED = 'JHjtK0XSLLyQgcHTUM/39SiLWLwCrHwdsi4a4MkMvJk=';
const COOKIE = 'Mt/GpqasgMVRL4Wh3m9ctIXYzZ18K+pYcZhP4qsOgfo=';
const HOW_TO_GENERATE = 'generate one with `head -c32 /dev/urandom | base64`';
const REQUIRED = 'is required: routes[0] is not public, so users sign in';

const protectedRoute = {
  from: 'https://app.example.com',
  to: 'http://app:3000',
  allowed_domains: ['example.com'],
};
const publicRoute = {
  from: 'https://status.example.com',
  to: 'http://status:8080',
  allow_public_unauthenticated_access: true,
};

/** The smallest config that signs users in; each test changes one thing. */
const signIn: Readonly<Record<string, unknown>> = {
  insecure_server: true,
  idp_provider_url: 'https://login.example.com',
  idp_client_id: 'gatehouse',
  idp_client_secret: 'client-secret',
  shared_secret: SHARED,
  cookie_secret: COOKIE,
  routes: [protectedRoute],
};

/** Parses `signIn` with `changes` applied; a key set to undefined is left out. JSON is YAML. */
function parseWith(changes: Record<string, unknown> = {}): ConfigResult {
  return parseConfig({
    text: JSON.stringify({ ...signIn, ...changes }),
    fileName: 'gatehouse.yaml',
    env: {},
    readFile: () => {
      throw new Error('no files in these tests');
    },
  });
}

const problemsOf = (result: ConfigResult) => (result.ok ? [] : result.problems.map(formatProblem));
const problemsWith = (changes: Record<string, unknown>) => problemsOf(parseWith(changes));
const load = (name: string) => loadConfigFile(join(FIXTURES, name), {});

function configOf(result: ConfigResult) {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${problemsOf(result).join('\n')}`);
  return result.config;
}

describe('a sign-in config', () => {
  it('is accepted with an IdP, a client, both secrets and a route that lets someone in', () => {
    expect(problemsOf(parseWith())).toEqual([]);
  });

  it('is accepted with every sign-in key set (valid-sign-in.yaml)', () => {
    const result = load('valid-sign-in.yaml');
    const config = configOf(result);
    expect(result.warnings).toEqual([]);
    expect(config).toMatchObject({
      workers: 4,
      idp_provider: 'Keycloak',
      cookie_same_site: 'lax',
      cookie_expire: 8 * 3_600_000,
      databroker_storage_type: 'redis',
      previous_shared_secrets: ['hkYnVJ20n+brlyT7Y07R8jA0SW1HWkBAs+ymz25G3bw='],
    });
    expect(config.routes.map((route) => route.auth_mode)).toEqual(['auto', 'redirect', 'api', 'auto']);
  });

  it('reports every sign-in mistake at once, in the order of the file (many-mistakes.yaml)', () => {
    expect(problemsOf(load('many-mistakes.yaml'))).toEqual([
      'cookie_same_site: none requires cookie_secure: true',
      'workers: above 1 needs databroker_storage_type: redis: sessions in one worker’s memory are unknown to the others',
      'authenticate_service_url: must be only a scheme, host and port such as https://authenticate.example.com; /oauth2/callback is added',
      'idp_provider_url: must use https; plain http is accepted only for an IdP on loopback (development)',
      'idp_scopes: must include openid: Gatehouse signs users in with OpenID Connect',
      `shared_secret: must be 32 bytes in standard base64; ${HOW_TO_GENERATE}`,
      `previous_shared_secrets[1]: must decode to exactly 32 bytes, not 5; ${HOW_TO_GENERATE}`,
      'programmatic_redirect_domain_whitelist[1]: "evil.com/path" is not a host name such as localhost, cli.example.com or *.example.com',
      'routes[0]: has allow_public_unauthenticated_access with allowed users or domains; a public route lets everyone in, so remove one of them',
      'routes[1]: lets nobody in: set allow_any_authenticated_user, allowed_users or allowed_domains, or allow_public_unauthenticated_access: true to serve it publicly',
    ]);
  });

  it('is still checked beside Pomerium keys Gatehouse refuses', () => {
    expect(problemsWith({ autocert: true, shared_secret: undefined })).toEqual([
      `shared_secret: ${REQUIRED}`,
      'autocert: is a Pomerium setting Gatehouse does not implement: Gatehouse does not obtain certificates; get them with cert-manager or certbot and set certificate_file and certificate_key_file',
    ]);
  });
});

describe('what a route that is not public requires', () => {
  it('names every missing key, and the route that needs them (missing-sign-in.yaml)', () => {
    expect(problemsOf(load('missing-sign-in.yaml'))).toEqual([
      "idp_provider_url: idp_provider oidc needs idp_provider_url: the provider's issuer URL",
      'idp_client_id: is required: routes[1] is not public, so users sign in',
      'idp_client_secret: is required: routes[1] is not public, so users sign in',
      'shared_secret: is required: routes[1] is not public, so users sign in',
      'cookie_secret: is required: routes[1] is not public, so users sign in',
    ]);
  });

  it.each(['idp_client_id', 'idp_client_secret', 'shared_secret', 'cookie_secret'])(
    'refuses a config without %s',
    (key) => {
      expect(problemsWith({ [key]: undefined })).toEqual([`${key}: ${REQUIRED}`]);
    },
  );

  it('asks for nothing when every route is public', () => {
    const config = configOf(
      parseConfig({
        text: JSON.stringify({ insecure_server: true, workers: 4, routes: [publicRoute] }),
        fileName: 'gatehouse.yaml',
        env: {},
        readFile: () => '',
      }),
    );
    expect(needsSignIn(config)).toBe(false);
  });

  it('needs sign-in as soon as one route is not public', () => {
    const config = configOf(parseWith({ routes: [publicRoute, protectedRoute] }));
    expect(needsSignIn(config)).toBe(true);
  });

  it('refuses more than one worker with sessions in memory, and accepts it with Redis', () => {
    expect(problemsWith({ workers: 2 })).toEqual([
      'workers: above 1 needs databroker_storage_type: redis: sessions in one worker’s memory are unknown to the others',
    ]);
    expect(
      problemsWith({
        workers: 2,
        databroker_storage_type: 'redis',
        databroker_storage_connection_string: 'redis://127.0.0.1:6379',
      }),
    ).toEqual([]);
  });
});

describe('the IdP', () => {
  it('refuses an idp_provider it does not know, naming the ones it does', () => {
    const [problem] = problemsWith({ idp_provider: 'facebook' });
    expect(problem).toMatch(/^idp_provider_url: idp_provider "facebook" is not known; use one of .*keycloak/);
  });

  it('refuses a provider that is not OpenID Connect even with a URL', () => {
    expect(problemsWith({ idp_provider: 'github', idp_provider_url: 'https://github.com' })).toEqual([
      'idp_provider_url: idp_provider github is not supported: GitHub sign-in is plain OAuth 2.0, not OpenID Connect (no ID token, no discovery)',
    ]);
  });

  it('says what URL a provider with one issuer per tenant needs', () => {
    expect(problemsWith({ idp_provider: 'okta', idp_provider_url: undefined })).toEqual([
      'idp_provider_url: idp_provider okta needs idp_provider_url: https://<your org>.okta.com or an authorization server under it',
    ]);
  });

  it('finds the issuer of a provider that has one for everybody', () => {
    expect(problemsWith({ idp_provider: 'google', idp_provider_url: undefined })).toEqual([]);
  });

  it.each([
    'http://login.example.com',
    'http://localhost.example.com',
    'http://127.0.0.1.nip.io',
    'http://10.0.0.1',
  ])('refuses the plain http issuer %s, which is not on loopback', (issuer) => {
    expect(problemsWith({ idp_provider_url: issuer })).toEqual([
      'idp_provider_url: must use https; plain http is accepted only for an IdP on loopback (development)',
    ]);
    expect(issuerMayUsePlainHttp(issuer)).toBe(false);
  });

  it.each([
    'http://localhost:9000',
    'http://idp.localhost',
    'http://127.0.0.1:9000/dev',
    'http://[::1]:9000',
  ])('accepts the loopback issuer %s over plain http (the development IdP)', (issuer) => {
    expect(problemsWith({ idp_provider_url: issuer })).toEqual([]);
  });

  it('refuses idp_scopes without openid', () => {
    expect(problemsWith({ idp_scopes: ['email', 'profile'] })).toEqual([
      'idp_scopes: must include openid: Gatehouse signs users in with OpenID Connect',
    ]);
    expect(problemsWith({ idp_scopes: ['openid'] })).toEqual([]);
  });
});

describe('secrets', () => {
  it.each([
    ['not base64', 'not base64!', `must be 32 bytes in standard base64; ${HOW_TO_GENERATE}`],
    ['base64url', SHARED.replace('/', '_'), `must be 32 bytes in standard base64; ${HOW_TO_GENERATE}`],
    [
      'too short',
      Buffer.alloc(16, 1).toString('base64'),
      `must decode to exactly 32 bytes, not 16; ${HOW_TO_GENERATE}`,
    ],
    [
      'too long',
      Buffer.alloc(64, 1).toString('base64'),
      `must decode to exactly 32 bytes, not 64; ${HOW_TO_GENERATE}`,
    ],
    ['empty', '', `is empty; ${HOW_TO_GENERATE}`],
  ])('refuses a shared_secret and a cookie_secret that is %s', (_kind, value, message) => {
    expect(problemsWith({ shared_secret: value, cookie_secret: value })).toEqual([
      `shared_secret: ${message}`,
      `cookie_secret: ${message}`,
    ]);
  });

  it('names each bad entry of previous_shared_secrets by its index', () => {
    expect(problemsWith({ previous_shared_secrets: [COOKIE, 'c2hvcnQ=', SHARED, 'not base64!'] })).toEqual([
      `previous_shared_secrets[1]: must decode to exactly 32 bytes, not 5; ${HOW_TO_GENERATE}`,
      `previous_shared_secrets[3]: must be 32 bytes in standard base64; ${HOW_TO_GENERATE}`,
    ]);
  });

  it('checks secrets even when no route needs them, so a later route does not start with a bad one', () => {
    expect(problemsWith({ shared_secret: 'c2hvcnQ=', routes: [publicRoute] })).toEqual([
      `shared_secret: must decode to exactly 32 bytes, not 5; ${HOW_TO_GENERATE}`,
    ]);
  });
});

describe('the session store', () => {
  it('refuses Redis without a connection string', () => {
    expect(problemsWith({ databroker_storage_type: 'redis' })).toEqual([
      'databroker_storage_connection_string: is required with databroker_storage_type: redis, e.g. redis://127.0.0.1:6379',
    ]);
  });
});

describe('the session cookie', () => {
  it('refuses cookie_same_site: none without cookie_secure, which browsers would drop', () => {
    expect(problemsWith({ cookie_same_site: 'none', cookie_secure: false })).toEqual([
      'cookie_same_site: none requires cookie_secure: true',
    ]);
    expect(problemsWith({ cookie_same_site: 'none' })).toEqual([]);
  });

  it.each([
    ['Lax', 'lax'],
    ['STRICT', 'strict'],
    ['None', 'none'],
  ])('reads cookie_same_site %s as %s', (written, read) => {
    expect(configOf(parseWith({ cookie_same_site: written })).cookie_same_site).toBe(read);
  });

  it('refuses a cookie_same_site browsers do not know', () => {
    expect(problemsWith({ cookie_same_site: 'sometimes' })).toEqual([
      expect.stringMatching(/^cookie_same_site: .*"sometimes"/),
    ]);
  });

  it('refuses a __Host- cookie that is not Secure or has a Domain', () => {
    const hostRule = 'a __Host- cookie_name requires cookie_secure: true and no cookie_domain';
    expect(problemsWith({ cookie_name: '__Host-gatehouse', cookie_secure: false })).toEqual([hostRule]);
    expect(problemsWith({ cookie_name: '__Host-gatehouse', cookie_domain: '.example.com' })).toEqual([
      hostRule,
    ]);
    expect(problemsWith({ cookie_name: '__Host-gatehouse' })).toEqual([]);
  });

  it('refuses a __Secure- cookie that is not Secure', () => {
    expect(problemsWith({ cookie_name: '__Secure-gatehouse', cookie_secure: false })).toEqual([
      'a __Secure- cookie_name requires cookie_secure: true',
    ]);
    expect(problemsWith({ cookie_name: '__Secure-gatehouse', cookie_domain: '.example.com' })).toEqual([]);
  });

  it.each(['10.0.0.1', 'exa mple.com', '-bad.example.com', 'example.com/app', '.'])(
    'refuses the cookie_domain %j',
    (domain) => {
      expect(problemsWith({ cookie_domain: domain })).toEqual([
        `cookie_domain ${JSON.stringify(domain)} must be a DNS name such as .example.com`,
      ]);
    },
  );

  it('accepts a cookie_domain with a leading dot and capitals', () => {
    expect(problemsWith({ cookie_domain: '.Example.COM' })).toEqual([]);
  });

  it('refuses a cookie_name that is not a cookie name', () => {
    expect(problemsWith({ cookie_name: 'my cookie' })).toEqual([
      'cookie_name "my cookie" is not a valid cookie name',
    ]);
  });
});

describe('authenticate_service_url', () => {
  it.each(['https://auth.example.com', 'https://auth.example.com/', 'https://auth.example.com:8443'])(
    'accepts %s',
    (url) => {
      expect(problemsWith({ authenticate_service_url: url })).toEqual([]);
    },
  );

  it.each([
    'https://auth.example.com/oauth2/callback',
    'https://auth.example.com/?next=1',
    'https://auth.example.com/#top',
    'https://user:pass@auth.example.com',
  ])('refuses %s, which is more than a scheme, host and port', (url) => {
    expect(problemsWith({ authenticate_service_url: url })).toEqual([
      'authenticate_service_url: must be only a scheme, host and port such as https://authenticate.example.com; /oauth2/callback is added',
    ]);
  });
});

describe('programmatic_redirect_domain_whitelist', () => {
  interface AllowlistFixture {
    accepted: string[];
    refused: { name: string; entry: string }[];
  }
  const entries = JSON.parse(
    readFileSync(join(FIXTURES, 'redirect-allowlist-entries.json'), 'utf8'),
  ) as AllowlistFixture;

  it('accepts host names, IP literals and *.domain, and each compiles into the redirect check', () => {
    const config = configOf(parseWith({ programmatic_redirect_domain_whitelist: entries.accepted }));
    const isAllowed = compileProgrammaticRedirectCheck(config.programmatic_redirect_domain_whitelist);
    expect(isAllowed('https://cli.example.com/done').ok).toBe(true);
    expect(isAllowed('http://127.0.0.1:8000/callback').ok).toBe(true);
  });

  it.each(entries.refused)('refuses an entry with $name', ({ entry }) => {
    expect(problemsWith({ programmatic_redirect_domain_whitelist: ['localhost', entry] })).toEqual([
      `programmatic_redirect_domain_whitelist[1]: "${entry}" is not a host name such as localhost, cli.example.com or *.example.com`,
    ]);
  });
});

describe('who a route lets in', () => {
  it.each([
    ['allow_any_authenticated_user', { allow_any_authenticated_user: true }],
    ['allowed_users', { allowed_users: ['alice@example.com'] }],
    ['allowed_domains', { allowed_domains: ['example.com'] }],
  ])('accepts a route that lets in users by %s', (_key, grant) => {
    expect(
      problemsWith({ routes: [{ from: 'https://app.example.com', to: 'http://app:3000', ...grant }] }),
    ).toEqual([]);
  });

  it('refuses a route that lets nobody in', () => {
    const nobody = { from: 'https://app.example.com', to: 'http://app:3000', allowed_users: [] };
    expect(problemsWith({ routes: [publicRoute, nobody] })).toEqual([
      'routes[1]: lets nobody in: set allow_any_authenticated_user, allowed_users or allowed_domains, or allow_public_unauthenticated_access: true to serve it publicly',
    ]);
  });

  it.each([
    ['allowed_users', { allowed_users: ['alice@example.com'] }],
    ['allowed_domains', { allowed_domains: ['example.com'] }],
    ['allow_any_authenticated_user', { allow_any_authenticated_user: true }],
  ])('refuses a public route that also has %s, which it could not enforce', (_key, grant) => {
    expect(problemsWith({ routes: [protectedRoute, { ...publicRoute, ...grant }] })).toEqual([
      'routes[1]: has allow_public_unauthenticated_access with allowed users or domains; a public route lets everyone in, so remove one of them',
    ]);
  });
});
