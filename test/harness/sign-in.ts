/**
 * A complete sign-in world for integration tests: the development IdP (oidc-provider) in process, a real
 * upstream that records what reached it, and Gatehouse on a port chosen before it starts, so the IdP can
 * register `http://<host>:<port>/oauth2/callback` for every test host. Browsers are played by a CookieJar
 * that follows redirects the way a browser navigating would.
 */
import { startDevIdp, type DevIdp } from '../../src/demo/dev-idp.js';
import { startGatehouse, type TestGatehouse } from './gatehouse.js';
import { CookieJar, requestWithCookies, signInWithoutBrowser, type HttpAnswer } from './idp.js';
import { startUpstream, unusedPort, type TestUpstream, type UpstreamHandler } from './upstream.js';

export const CLIENT_ID = 'gatehouse';
export const CLIENT_SECRET = 'sign-in-test-client-secret';
/** Base64 of 32 bytes each: test secrets, not for anything else. */
export const SHARED_SECRET = Buffer.alloc(32, 7).toString('base64');
export const COOKIE_SECRET = Buffer.alloc(32, 9).toString('base64');

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
  close(): Promise<void>;
}

/** The common top of a test config: plain http, the IdP, the client and the test secrets. */
export function identityConfig(issuer: string, extra = ''): string {
  return `insecure_server: true
idp_provider: oidc
idp_provider_url: ${issuer}
idp_client_id: ${CLIENT_ID}
idp_client_secret: ${CLIENT_SECRET}
shared_secret: ${SHARED_SECRET}
cookie_secret: ${COOKIE_SECRET}
cookie_secure: false
${extra}`;
}

export async function startSignInWorld(options: SignInWorldOptions): Promise<SignInWorld> {
  const port = await unusedPort();
  const idp = await startDevIdp({
    host: '127.0.0.1',
    port: 0,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: options.callbackHosts.map((host) => `http://${host}:${port}/oauth2/callback`),
        post_logout_redirect_uris: [...(options.postLogoutRedirects?.(port) ?? [])],
      },
    ],
    ...(options.accessTokenTtlSeconds === undefined
      ? {}
      : { accessTokenTtlSeconds: options.accessTokenTtlSeconds }),
  });
  const upstream = await startUpstream(options.upstreamHandler);
  let gatehouse: TestGatehouse;
  try {
    gatehouse = await startGatehouse(options.config({ issuer: idp.issuer, port, upstream: upstream.url }), {
      ADDRESS: `127.0.0.1:${port}`,
    });
  } catch (error) {
    await Promise.all([idp.close(), upstream.close()]);
    throw error;
  }
  return {
    idp,
    upstream,
    gatehouse,
    port,
    url: (host, path = '/') => new URL(`http://${host}:${port}${path}`),
    close: async () => {
      await gatehouse.close();
      await Promise.all([idp.close(), upstream.close()]);
    },
  };
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
