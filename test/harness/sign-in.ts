/**
 * A complete sign-in world for integration tests: the development IdP (oidc-provider) in process, a real
 * upstream that records what reached it, and Gatehouse on a port chosen before it starts, so the IdP can
 * register `http://<host>:<port>/oauth2/callback` for every test host. Browsers are played by a CookieJar
 * that follows redirects the way a browser navigating would.
 */
import { fileURLToPath } from 'node:url';
import { startDevIdp, type DevIdp, type DevIdpOptions } from '../../src/demo/dev-idp.js';
import { decodeCheckedSecret, deriveAuthKeys } from '../../src/auth/secrets.js';
import { openSessionRecord, type SessionRecord } from '../../src/auth/session-record.js';
import { verifySessionToken } from '../../src/auth/session-token.js';
import { systemClock } from '../../src/shared/clock.js';
import { createStore } from '../../src/store/create-store.js';
import { startGatehouse, type TestGatehouse } from './gatehouse.js';
import { CookieJar, requestWithCookies, signInWithoutBrowser, type HttpAnswer } from './idp.js';
import { assertSharedRedisUp, deleteKeysWithPrefix, SHARED_REDIS_URL, uniqueKeyPrefix } from './redis.js';
import { startUpstream, unusedPort, type TestUpstream, type UpstreamHandler } from './upstream.js';

export const CLIENT_ID = 'gatehouse';
export const CLIENT_SECRET = 'sign-in-test-client-secret';
/** Base64 of 32 bytes each: test secrets, not for anything else. */
export const SHARED_SECRET = Buffer.alloc(32, 7).toString('base64');
export const COOKIE_SECRET = Buffer.alloc(32, 9).toString('base64');

/** The test host most worlds route. */
export const APP = 'app.example.test';
/** Development IdP users (the sign-in form's values) and their emails (src/demo/dev-idp.ts). */
export const ALICE = 'alice';
export const ALICE_EMAIL = 'alice@example.com';
export const BOB = 'bob';
export const BOB_EMAIL = 'bob@contractor.example';

/**
 * The session service's default cache time (src/auth/session-service.ts): how long an instance serves a
 * verified token from memory.
 */
export const SESSION_CACHE_TTL_MS = 3000;

/** Headers of a top-level navigation in a browser (Fetch metadata, HTML preferred). */
export const NAVIGATION = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'none',
  'sec-fetch-dest': 'document',
} as const;

export interface SignInWorldOptions {
  /** Hosts (`app.example.test`) that may be callback hosts; each gets `/oauth2/callback` registered. */
  readonly callbackHosts: readonly string[];
  /** Where sign-out may end, registered as post-logout redirect URIs. */
  readonly postLogoutRedirects?: (port: number) => readonly string[];
  /** The YAML config, given the IdP's issuer, Gatehouse's port and the upstream's URL. */
  readonly config: (world: { issuer: string; port: number; upstream: string }) => string;
  readonly accessTokenTtlSeconds?: number;
  readonly upstreamHandler?: UpstreamHandler;
}

export interface SignInWorld {
  readonly idp: DevIdp;
  readonly upstream: TestUpstream;
  readonly gatehouse: TestGatehouse;
  readonly port: number;
  /** `http://<host>:<port><path>` on Gatehouse. */
  url(host: string, path?: string): URL;
  /**
   * Starts another Gatehouse with the same YAML on a port of its own (so the IdP knows no callback on it):
   * with a Redis store, a second instance sharing the sessions. Closed with the world.
   */
  startInstance(): Promise<GatehouseInstance>;
  close(): Promise<void>;
}

export interface GatehouseInstance extends TestGatehouse {
  /** `http://<host>:<port><path>` on this instance, as {@link SignInWorld.url} is on the first. */
  hostUrl(host: string, path?: string): URL;
}

/**
 * One route as a YAML list item that lets any signed-in user in, the counterpart of `publicRoute` in
 * gatehouse.ts. `extra` is more route keys, each line indented by four spaces (`'    prefix: /api\n'`).
 */
export function signedInRoute(from: string, to: string, extra = ''): string {
  return `  - from: ${from}\n    to: ${to}\n    allow_any_authenticated_user: true\n${extra}`;
}

/** The IdP, the client and the test secrets: config lines every sign-in test has. */
const identityLines = (issuer: string): string => `idp_provider: oidc
idp_provider_url: ${issuer}
idp_client_id: ${CLIENT_ID}
idp_client_secret: ${CLIENT_SECRET}
shared_secret: ${SHARED_SECRET}
cookie_secret: ${COOKIE_SECRET}
`;

/** The common top of a test config: plain http, the IdP, the client and the test secrets. */
export function identityConfig(issuer: string, extra = ''): string {
  return `insecure_server: true
${identityLines(issuer)}cookie_secure: false
${extra}`;
}

const tlsFixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));

/**
 * The common top of a browser test's config: https with the self-signed test certificate (browsers open it
 * with certificate errors ignored), so cookies stay `Secure` as by default; the IdP, the client and the
 * test secrets.
 */
export function httpsIdentityConfig(issuer: string, extra = ''): string {
  return `certificate_file: ${tlsFixture('localhost-cert.pem')}
certificate_key_file: ${tlsFixture('localhost-key.pem')}
${identityLines(issuer)}${extra}`;
}

/**
 * The development IdP on loopback with Gatehouse's client (CLIENT_ID, CLIENT_SECRET) registered for
 * `<origin>/oauth2/callback` on every callback origin.
 */
function startIdpForOrigins(
  callbackOrigins: readonly string[],
  postLogoutRedirects: readonly string[],
  more: Pick<DevIdpOptions, 'issuerHostname' | 'accessTokenTtlSeconds'>,
): Promise<DevIdp> {
  return startDevIdp({
    host: '127.0.0.1',
    port: 0,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: callbackOrigins.map((origin) => `${origin}/oauth2/callback`),
        post_logout_redirect_uris: [...postLogoutRedirects],
      },
    ],
    ...more,
  });
}

export interface SignInIdpOptions {
  /** The port Gatehouse will listen on, for the callback and post-logout URIs. */
  readonly port: number;
  readonly callbackHosts: readonly string[];
  readonly postLogoutRedirects?: readonly string[] | undefined;
  readonly accessTokenTtlSeconds?: number | undefined;
}

/**
 * The development IdP with Gatehouse's client (CLIENT_ID, CLIENT_SECRET) registered for
 * `http://<host>:<port>/oauth2/callback` on every callback host: for a Gatehouse in this process
 * ({@link startSignInWorld}) or one run through the CLI on `port`.
 */
export function startSignInIdp(options: SignInIdpOptions): Promise<DevIdp> {
  return startIdpForOrigins(
    options.callbackHosts.map((host) => `http://${host}:${options.port}`),
    options.postLogoutRedirects ?? [],
    options.accessTokenTtlSeconds === undefined
      ? {}
      : { accessTokenTtlSeconds: options.accessTokenTtlSeconds },
  );
}

/**
 * The development IdP for a browser test, named `localhost`, with Gatehouse's client registered for
 * `<origin>/oauth2/callback` on every one of Gatehouse's https origins (`https://app.example.test:<port>`).
 */
export function startBrowserIdp(
  callbackOrigins: readonly string[],
  postLogoutRedirects: readonly string[] = [],
): Promise<DevIdp> {
  return startIdpForOrigins(callbackOrigins, postLogoutRedirects, { issuerHostname: 'localhost' });
}

const urlOn =
  (port: number) =>
  (host: string, path = '/'): URL =>
    new URL(`http://${host}:${port}${path}`);

export async function startSignInWorld(options: SignInWorldOptions): Promise<SignInWorld> {
  const port = await unusedPort();
  const idp = await startSignInIdp({
    port,
    callbackHosts: options.callbackHosts,
    postLogoutRedirects: options.postLogoutRedirects?.(port),
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
  });
  const upstream = await startUpstream(options.upstreamHandler);
  let yaml: string;
  let gatehouse: TestGatehouse;
  try {
    yaml = options.config({ issuer: idp.issuer, port, upstream: upstream.url });
    gatehouse = await startGatehouse(yaml, { ADDRESS: `127.0.0.1:${port}` });
  } catch (error) {
    await Promise.all([idp.close(), upstream.close()]);
    throw error;
  }
  const instances: GatehouseInstance[] = [];
  return {
    idp,
    upstream,
    gatehouse,
    port,
    url: urlOn(port),
    startInstance: async () => {
      const started = await startGatehouse(yaml);
      const instance = Object.assign(started, { hostUrl: urlOn(started.port) });
      instances.push(instance);
      return instance;
    },
    close: async () => {
      await Promise.all(instances.map((instance) => instance.close()));
      await gatehouse.close();
      await Promise.all([idp.close(), upstream.close()]);
    },
  };
}

/**
 * A world signing in through {@link APP} alone: its config is {@link identityConfig} with `top` (a session
 * store, cookie settings) and then the `routes:` list, given the upstream's URL.
 */
export function startAppWorld(routes: (upstream: string) => string, top = ''): Promise<SignInWorld> {
  return startSignInWorld({
    callbackHosts: [APP],
    config: ({ issuer, upstream }) => identityConfig(issuer, `${top}routes:\n${routes(upstream)}`),
  });
}

export interface Visit {
  /** The last answer: the first one that is not a redirect. */
  readonly answer: HttpAnswer;
  /** Where that answer came from. */
  readonly url: URL;
  /** Every URL visited, in order, the IdP's pages included. */
  readonly trail: readonly URL[];
}

const MAX_REDIRECTS = 12;

/**
 * Navigates to `start` as a browser would: follows every redirect, and when one leads to the IdP, signs in
 * there as `user` (skipped when the jar holds an IdP session) and goes on from the IdP's redirect back.
 */
export async function navigate(start: URL, jar: CookieJar, user: string, idp: DevIdp): Promise<Visit> {
  const trail: URL[] = [];
  let url = start;
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    trail.push(url);
    if (url.origin === new URL(idp.issuer).origin) {
      url = await signInWithoutBrowser(url, user, jar);
      continue;
    }
    const answer = await requestWithCookies(url, jar, { headers: NAVIGATION });
    const location = answer.headers.location;
    if (answer.status < 300 || answer.status > 399 || location === undefined) return { answer, url, trail };
    url = new URL(location, url);
  }
  throw new Error(
    `more than ${MAX_REDIRECTS} redirects: ${trail.map((visited) => visited.href).join(' → ')}`,
  );
}

/** Signs `user` in through `start` and returns the jar holding the session cookie. */
export async function signedInJar(start: URL, user: string, idp: DevIdp): Promise<CookieJar> {
  const jar = new CookieJar();
  const visit = await navigate(start, jar, user, idp);
  if (visit.answer.status !== 200) {
    throw new Error(
      `sign-in ended at ${visit.url.href} with ${visit.answer.status}: ${visit.answer.body.slice(0, 200)}`,
    );
  }
  return jar;
}

/** Signs `user` in through `start`: the jar holding the session cookie, and its value (the token). */
export async function signedInSession(
  start: URL,
  user: string,
  idp: DevIdp,
): Promise<{ jar: CookieJar; token: string }> {
  const jar = await signedInJar(start, user, idp);
  const token = jar.get(start, '_pomerium');
  if (token === undefined) throw new Error(`signing ${user} in through ${start.href} set no session cookie`);
  return { jar, token };
}

/** A script's request (JSON, no cookie) carrying the session token as X-Pomerium-Authorization. */
export function requestWithToken(url: URL, token: string): Promise<HttpAnswer> {
  return requestWithCookies(url, new CookieJar(), {
    headers: { accept: 'application/json', 'x-pomerium-authorization': token },
  });
}

/** A script on the site's own page signing out the jar's session: a same-origin JSON POST to `url`. */
export function postSignOut(url: URL, jar: CookieJar): Promise<HttpAnswer> {
  return requestWithCookies(url, jar, {
    method: 'POST',
    headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
  });
}

/** Whether `url` is served by this world's Gatehouse (any test host on its port) or by its IdP. */
function isInsideWorld(url: URL, world: Pick<SignInWorld, 'idp' | 'port'>): boolean {
  if (url.origin === new URL(world.idp.issuer).origin) return true;
  return url.protocol === 'http:' && url.port === String(world.port);
}

/** Where a navigation left Gatehouse and the IdP: the first redirect elsewhere, not requested. */
export interface Departure {
  readonly left: URL;
  readonly trail: readonly URL[];
}

/**
 * {@link navigate}, stopping at the first redirect that leaves Gatehouse and the IdP (a CLI's loopback
 * listener, a sign-out page elsewhere) instead of requesting it. Throws when the navigation ends inside.
 */
export async function navigateUntilLeaving(
  start: URL,
  jar: CookieJar,
  user: string,
  world: Pick<SignInWorld, 'idp' | 'port'>,
): Promise<Departure> {
  const trail: URL[] = [];
  let url = start;
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    if (!isInsideWorld(url, world)) return { left: url, trail };
    trail.push(url);
    if (url.origin === new URL(world.idp.issuer).origin) {
      url = await signInWithoutBrowser(url, user, jar);
      continue;
    }
    const answer = await requestWithCookies(url, jar, { headers: NAVIGATION });
    const location = answer.headers.location;
    if (answer.status < 300 || answer.status > 399 || location === undefined) {
      throw new Error(`the navigation ended inside, at ${url.href} with ${answer.status}`);
    }
    url = new URL(location, url);
  }
  throw new Error(
    `more than ${MAX_REDIRECTS} redirects: ${trail.map((visited) => visited.href).join(' → ')}`,
  );
}

/**
 * Navigates to `start` and follows Gatehouse's redirects up to the IdP's authorization request, without
 * going there: a sign-in begun (its CSRF cookie in the jar) but not completed, as in a tab left open.
 */
export async function beginSignIn(
  start: URL,
  jar: CookieJar,
  world: Pick<SignInWorld, 'idp' | 'port'>,
): Promise<URL> {
  const issuer = new URL(world.idp.issuer).origin;
  let url = start;
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    if (url.origin === issuer) return url;
    const answer = await requestWithCookies(url, jar, { headers: NAVIGATION });
    const location = answer.headers.location;
    if (answer.status < 300 || answer.status > 399 || location === undefined) {
      throw new Error(`no sign-in began: ${url.href} answered ${answer.status}`);
    }
    url = new URL(location, url);
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects before the IdP`);
}

/**
 * Presses Cancel on the development IdP's sign-in page: returns the redirect back to the relying party,
 * which carries `error=access_denied` and the authorization request's `state` (OpenID Connect Core
 * §3.1.2.6).
 */
export async function cancelSignInWithoutBrowser(authorizationUrl: URL, jar: CookieJar): Promise<URL> {
  let url = authorizationUrl;
  let answer = await requestWithCookies(url, jar);
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status <= 399 && location !== undefined) {
      const next = new URL(location, url);
      if (next.origin !== authorizationUrl.origin) return next;
      url = next;
      answer = await requestWithCookies(url, jar);
      continue;
    }
    const cancel = /<form method="post" action="([^"]+\/abort)"/.exec(answer.body)?.[1];
    if (cancel === undefined) throw new Error(`no Cancel button at ${url.href} (${answer.status})`);
    url = new URL(cancel, url);
    answer = await requestWithCookies(url, jar, { method: 'POST', form: new URLSearchParams() });
  }
  throw new Error(`cancelling did not leave the IdP within ${MAX_REDIRECTS} steps`);
}

/** The `ERR_*` code of one of Gatehouse's error answers, JSON or HTML; undefined when there is none. */
export function errorCodeOf(answer: HttpAnswer): string | undefined {
  if (answer.headers['content-type']?.startsWith('application/json') === true) {
    const body = JSON.parse(answer.body) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : undefined;
  }
  return /\b(ERR_[A-Z_]+)\b/.exec(answer.body)?.[1];
}

/** The values of the session cookies (`name=value`, value not empty) a response sets. */
export function sessionCookiesSet(answer: HttpAnswer, name = '_pomerium'): string[] {
  return (answer.headers['set-cookie'] ?? [])
    .map((header) => header.split(';')[0] ?? '')
    .filter((pair) => pair.startsWith(`${name}=`) && pair.length > name.length + 1);
}

/** Config lines for the Redis session store under `keyPrefix` (a prefix from `uniqueKeyPrefix()`). */
export function redisStoreConfig(keyPrefix: string, connectionString = SHARED_REDIS_URL): string {
  return `databroker_storage_type: redis
databroker_storage_connection_string: ${connectionString}
databroker_storage_key_prefix: ${JSON.stringify(keyPrefix)}
`;
}

/** What a test can see of the sessions Gatehouse keeps in Redis, decrypted with the test secrets. */
export interface StoredSessions {
  /** The stored record of the session a token names; undefined once it is gone. */
  recordOf(token: string): Promise<SessionRecord | undefined>;
  /** Deletes the record behind Gatehouse's back: no revocation is announced. */
  deleteQuietly(token: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens the Redis store Gatehouse was configured with by `redisStoreConfig(keyPrefix, connectionString)`. */
export async function openStoredSessions(
  keyPrefix: string,
  connectionString = SHARED_REDIS_URL,
): Promise<StoredSessions> {
  const store = await createStore({ type: 'redis', connectionString, keyPrefix, clock: systemClock });
  const keys = deriveAuthKeys({
    sharedSecret: decodeCheckedSecret(SHARED_SECRET),
    previousSharedSecrets: [],
    cookieSecret: decodeCheckedSecret(COOKIE_SECRET),
  });
  // The session service's key layout (session-service.ts): `session:<id>`.
  const keyOf = async (token: string) =>
    `session:${(await verifySessionToken(token, keys.sessionToken, Date.now())).sessionId}`;
  return {
    recordOf: async (token) => {
      const key = await keyOf(token);
      const sealed = await store.get(key);
      return sealed === undefined
        ? undefined
        : openSessionRecord(sealed, keys.sessionRecord, key.slice('session:'.length));
    },
    deleteQuietly: async (token) => {
      await store.delete(await keyOf(token));
    },
    close: () => store.close(),
  };
}

/** Sessions on the shared Redis under a key prefix of their own. */
export interface SharedRedisSessions {
  readonly keyPrefix: string;
  /** The config lines that keep Gatehouse's sessions there: `redisStoreConfig(keyPrefix)`. */
  readonly storeConfig: string;
  /** What Gatehouse stored there. */
  readonly stored: StoredSessions;
  /** Closes `stored` and deletes every key under the prefix. */
  close(): Promise<void>;
}

/** Checks the shared Redis is up and opens a fresh key prefix on it for one world's sessions. */
export async function openSharedRedisSessions(): Promise<SharedRedisSessions> {
  await assertSharedRedisUp();
  const keyPrefix = uniqueKeyPrefix();
  const stored = await openStoredSessions(keyPrefix);
  return {
    keyPrefix,
    storeConfig: redisStoreConfig(keyPrefix),
    stored,
    close: async () => {
      await stored.close();
      await deleteKeysWithPrefix(keyPrefix);
    },
  };
}
